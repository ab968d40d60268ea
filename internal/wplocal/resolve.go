package wplocal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// values stands in for Parameter Store and Secrets Manager: one value per
// parameter, whichever task reads it, as the real services keep one.
// Where the plan shows a parameter's value it is that value; where the
// plan shows "[secret]" (a SecureString's value is a Pulumi secret) it is
// a test value drawn once, or for the database's settings the local
// MariaDB's.
type values struct {
	spec *Spec
	mu   sync.Mutex
	byID map[string]string
	// Notes say where each variable's value came from, for the log.
	Notes []string
}

func newValues(s *Spec) *values { return &values{spec: s, byID: map[string]string{}} }

// localDBHost is where the local MariaDB listens; the plan's RDS address
// (a secret in the host parameter) stands for it.
const localDBHost = "127.0.0.1"

// environment is what ECS gives the container: its environment, then its
// secrets, each read from the parameter or secret its valueFrom names. A
// valueFrom that is neither stops the task, as it does on ECS
// (ResourceInitializationError: unable to pull secrets).
func (v *values) environment(c Container) (map[string]string, error) {
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	for _, s := range c.Secrets {
		value, err := v.secret(s)
		if err != nil {
			return nil, err
		}
		env[s.Name] = value
	}
	return env, nil
}

func (v *values) secret(s Secret) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if value, ok := v.byID[s.ValueFrom]; ok {
		return value, nil
	}
	var value, from string
	switch prm, ok := v.spec.Plan.ByARN(s.ValueFrom); {
	case ok && prm.Type == typeSSMParameter:
		from = "SSM parameter " + prm.String("name")
		value = prm.String("value")
		if value == plan.SecretPlaceholder || value == "" {
			value = v.testValue(s.Name)
			from += " ([secret] in the plan: " + v.describe(s.Name) + ")"
		}
	case strings.Contains(s.ValueFrom, ":secretsmanager:"):
		// RDS's managed master secret is not a resource of the plan.
		from = "Secrets Manager " + s.ValueFrom + " (" + v.describe(s.Name) + ")"
		value = v.testValue(s.Name)
	default:
		return "", fmt.Errorf("secret %s: valueFrom %q is neither an SSM parameter of the plan nor a Secrets Manager secret; ECS would not start the task", s.Name, s.ValueFrom)
	}
	if s.Name == "WORDPRESS_DB_HOST" && value != localDBHost {
		// The database's address is the RDS instance's; here it is the
		// local MariaDB, whatever the plan says.
		from += "; the local MariaDB at " + localDBHost + " stands for " + value
		value = localDBHost
	}
	v.byID[s.ValueFrom] = value
	v.Notes = append(v.Notes, fmt.Sprintf("%s from %s", s.Name, from))
	return value, nil
}

// testValue is what a [secret] parameter holds in the local run: the
// database's settings are those of the plan's RDS instance (served by the
// local MariaDB), anything else a fresh random value.
func (v *values) testValue(variable string) string {
	db := v.spec.Database
	switch variable {
	case "WORDPRESS_DB_HOST":
		return localDBHost
	case "WORDPRESS_DB_PORT":
		return strconv.Itoa(db.Port)
	case "WORDPRESS_DB_USER":
		return db.User
	case "WORDPRESS_DB_NAME":
		return db.Name
	case "WORDPRESS_DB_PASSWORD":
		return randomText(18)
	}
	return randomText(48)
}

func (v *values) describe(variable string) string {
	switch variable {
	case "WORDPRESS_DB_HOST":
		return "the local MariaDB"
	case "WORDPRESS_DB_PORT", "WORDPRESS_DB_USER", "WORDPRESS_DB_NAME":
		return "the RDS instance's setting"
	}
	return "a test value drawn for this run"
}

// randomText is n random bytes in base64, for test passwords and keys.
func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// imageRandomKey is what the image's entrypoint puts in place of a key it
// is not given: 40 hex digits (a SHA-1 of random bytes), one per key, per
// container.
func imageRandomKey() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
