package config

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SecretPlaceholder stands in for a secret value that cannot be read: the
// offline plan has no secrets provider, so every `secure:` value in a stack
// file, and every secret a stack needs but has not set, arrives as this.
const SecretPlaceholder = "[secret]"

// Secret is a config value that must stay secret from the stack file to
// every resource input: it is only ever read as a Pulumi secret output, and
// it prints as SecretPlaceholder, so that a %v in an error message or a log
// line never shows it.
type Secret struct {
	value string
	set   bool
}

// NewSecret wraps a value known to be secret; tests and the config loader
// use it.
func NewSecret(value string) Secret { return Secret{value: value, set: true} }

// IsSet reports whether the stack has a value (or, offline, a placeholder).
func (s Secret) IsSet() bool { return s.set }

// Placeholder reports whether the value is the offline stand-in, so that
// checks on the real value (length, characters) are skipped offline.
func (s Secret) Placeholder() bool { return s.value == SecretPlaceholder }

// Output is the value as a Pulumi secret: the engine encrypts it in the
// state, masks it in every diff and propagates secretness to whatever is
// computed from it.
func (s Secret) Output() pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(s.value)).(pulumi.StringOutput)
}

// Reveal returns the clear value, for validation inside this package and for
// the rare caller that must hash or measure it. Never log the result.
func (s Secret) Reveal() string { return s.value }

// String never shows the value.
func (s Secret) String() string { return SecretPlaceholder }

// GoString never shows the value, even with %#v.
func (s Secret) GoString() string { return "config.Secret(" + SecretPlaceholder + ")" }

// MarshalJSON never shows the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + SecretPlaceholder + `"`), nil }

// secretKeys are the keys whose value is a Secret: they must be set with
// `pulumi config set --secret`, and a clear-text value is refused.
func secretKeys() map[string]bool {
	out := map[string]bool{}
	for key, field := range projectKeys {
		if _, ok := field(&Config{}).(*Secret); ok {
			out[key] = true
		}
	}
	return out
}

// IsSecretKey reports whether a top-level key (without the namespace) must
// be set with --secret.
func IsSecretKey(key string) bool { return secretKeys()[key] }

// requireSecret makes a secret that the stack needs mandatory: offline (no
// secrets provider) a missing one becomes the placeholder, so every stack
// in the repo plans on a fresh clone; under the engine it is an error that
// names the command to run.
func (c *Config) requireSecret(key string, s *Secret, why string, p *Problems) {
	if s.IsSet() {
		return
	}
	if c.offline {
		*s = NewSecret(SecretPlaceholder)
		return
	}
	p.addf("%s:%s: not set; %s. Run `pulumi config set --secret %s:%s <value> -s %s`", c.Project, key, why, c.Project, key, c.Stack)
}

// looksSecret reports whether a raw value came from a `secure:` entry that
// the offline plan could not decrypt (also nested inside an object).
func looksSecret(raw string) bool { return strings.Contains(raw, SecretPlaceholder) }
