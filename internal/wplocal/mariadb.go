package wplocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// mariaDB is the local database server, standing for the RDS instance.
type mariaDB struct {
	dir    string
	port   int
	socket string
	conf   string
	proc   *process
}

// enforcedParameters must take effect; MariaDB refuses to start on a
// name it does not know, which is what a run must do if it cannot
// enforce TLS. Every other parameter of the group is written with
// MariaDB's "loose-" prefix: applied where MariaDB has the MySQL
// setting, skipped with a warning where it has not.
var enforcedParameters = map[string]bool{"require_secure_transport": true}

// startMariaDB initialises a data directory and starts mariadbd with the
// plan's port, the parameter group's settings and TLS from ca.
func startMariaDB(ctx context.Context, dir string, db Database, ca *authority, log func(string, ...any)) (*mariaDB, error) {
	if err := portFree(db.Port); err != nil {
		return nil, fmt.Errorf("the database's port %d (data.port) is taken on this machine, by another MySQL or MariaDB or another local run: %w", db.Port, err)
	}
	m := &mariaDB{dir: dir, port: db.Port, socket: filepath.Join(dir, "mysqld.sock"), conf: filepath.Join(dir, "my.cnf")}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[mysqld]\ndatadir = %s\nsocket = %s\npid-file = %s\nlog-error = %s\n",
		filepath.Join(dir, "data"), m.socket, filepath.Join(dir, "mysqld.pid"), filepath.Join(dir, "error.log"))
	fmt.Fprintf(&b, "port = %d\nbind-address = %s\nskip-name-resolve\n", db.Port, localDBHost)
	fmt.Fprintf(&b, "ssl-ca = %s\nssl-cert = %s\nssl-key = %s\n", ca.CAFile, ca.CertFile, ca.KeyFile)
	fmt.Fprintf(&b, "general-log-file = %s\nslow-query-log-file = %s\n", filepath.Join(dir, "general.log"), filepath.Join(dir, "slow.log"))
	b.WriteString("# the plan's parameter group\n")
	for _, p := range db.Parameters {
		name := p.Name
		if !enforcedParameters[name] {
			name = "loose-" + name
		}
		fmt.Fprintf(&b, "%s = %s\n", name, p.Value)
	}
	if err := os.WriteFile(m.conf, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	user := []string{}
	if os.Geteuid() == 0 {
		// mariadbd refuses to run as root unless told to; the data
		// directory is this run's own.
		user = []string{"--user=root"}
	}
	install := exec.CommandContext(ctx, "mariadb-install-db", append([]string{"--defaults-file=" + m.conf, "--auth-root-authentication-method=socket", "--skip-test-db"}, user...)...)
	if out, err := install.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
	}
	proc, err := startProcess(filepath.Join(dir, "mariadbd.log"), nil, "mariadbd", append([]string{"--defaults-file=" + m.conf}, user...)...)
	if err != nil {
		return nil, fmt.Errorf("start mariadbd: %w", err)
	}
	m.proc = proc
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := m.sql(ctx, "SELECT 1"); err == nil {
			break
		}
		if proc.exited() || time.Now().After(deadline) {
			m.stop()
			tail, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("mariadbd did not come up on port %d:\n%s", db.Port, lastLines(string(tail), 15))
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, err := m.sql(ctx, "SELECT @@version, @@port, @@require_secure_transport, @@have_ssl")
	if err != nil {
		m.stop()
		return nil, err
	}
	log("MariaDB %s", strings.Join(strings.Fields(out), " "))
	return m, nil
}

// sql runs statements as the server's root over its Unix socket (which
// MariaDB counts as secure transport).
func (m *mariaDB) sql(ctx context.Context, statements string) (string, error) {
	cmd := exec.CommandContext(ctx, "mariadb", "--no-defaults", "--socket="+m.socket, "--user=root", "--batch", "--skip-column-names", "-e", statements)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mariadb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// createUser makes the database and the user WordPress connects as, from
// anywhere, with every privilege on that database (what RDS's master user
// has on it).
func (m *mariaDB) createUser(ctx context.Context, name, user, password string) error {
	_, err := m.sql(ctx, fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s; CREATE USER %s@'%%' IDENTIFIED BY %s; GRANT ALL PRIVILEGES ON %s.* TO %s@'%%';",
		ident(name), quote(user), quote(password), ident(name), quote(user)))
	return err
}

func (m *mariaDB) stop() {
	if m.proc != nil {
		m.proc.stop(30 * time.Second)
	}
}

func ident(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// tlsProbe connects to the database the way WordPress does, with PHP's
// mysqli, once without TLS and once with MYSQLI_CLIENT_SSL (what the
// task definition's MYSQL_CLIENT_FLAGS asks for), using the credentials
// a task gets. It returns "required" when only the TLS connection is let
// in, "optional" when both are, and an error when neither is.
func tlsProbe(ctx context.Context, env map[string]string) (string, []string, error) {
	const script = `<?php
mysqli_report(MYSQLI_REPORT_OFF);
$out = [];
foreach (['plain' => 0, 'tls' => MYSQLI_CLIENT_SSL] as $mode => $flags) {
	$h = mysqli_init();
	$ok = @mysqli_real_connect($h, getenv('WORDPRESS_DB_HOST'), getenv('WORDPRESS_DB_USER'), getenv('WORDPRESS_DB_PASSWORD'), getenv('WORDPRESS_DB_NAME'), (int) getenv('WORDPRESS_DB_PORT'), null, $flags);
	if ($ok) {
		$row = mysqli_fetch_row(mysqli_query($h, "SHOW SESSION STATUS LIKE 'Ssl_cipher'"));
		$out[$mode] = ['connected' => true, 'cipher' => $row[1]];
	} else {
		$out[$mode] = ['connected' => false, 'error' => mysqli_connect_errno() . ' ' . mysqli_connect_error()];
	}
}
echo json_encode($out);
`
	cmd := exec.CommandContext(ctx, "php")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"WORDPRESS_DB_HOST", "WORDPRESS_DB_USER", "WORDPRESS_DB_PASSWORD", "WORDPRESS_DB_NAME", "WORDPRESS_DB_PORT"} {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("php mysqli probe: %w: %s", err, out)
	}
	var res map[string]struct {
		Connected bool   `json:"connected"`
		Cipher    string `json:"cipher"`
		Error     string `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return "", nil, fmt.Errorf("php mysqli probe said %q: %w", out, err)
	}
	plain, tls := res["plain"], res["tls"]
	notes := []string{
		fmt.Sprintf("without TLS: %s", orDefault(plain.Error, "connected")),
		fmt.Sprintf("with MYSQLI_CLIENT_SSL: %s", map[bool]string{true: "connected, cipher " + tls.Cipher, false: tls.Error}[tls.Connected]),
	}
	switch {
	case !tls.Connected:
		return "broken", notes, errors.New("the database refuses WordPress's own TLS connection: " + tls.Error)
	case plain.Connected:
		return "optional", notes, nil
	}
	return "required", notes, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// portFree says whether nothing listens on 127.0.0.1:port.
func portFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(localDBHost, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
