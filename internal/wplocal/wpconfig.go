package wplocal

import (
	"fmt"
	"strings"
)

// wpConfig is wp-config.php as the official image's entrypoint writes it
// into a container that is given WORDPRESS_ variables, following the
// image's documented contract (hub.docker.com/_/wordpress, "Environment
// Variables"):
//   - every setting is read from the environment when PHP runs, or from
//     the file a VAR_FILE variable names;
//   - WORDPRESS_DB_HOST, _USER, _PASSWORD, _NAME, _CHARSET, _COLLATE,
//     WORDPRESS_TABLE_PREFIX and WORDPRESS_DEBUG set the usual constants;
//   - each of the eight keys and salts not in the environment falls back
//     to a random value written into this file alone, so two containers
//     never share one;
//   - X-Forwarded-Proto: https turns $_SERVER['HTTPS'] on, as behind a
//     TLS-terminating load balancer;
//   - WORDPRESS_CONFIG_EXTRA is evaluated last, before WordPress loads.
func wpConfig() string {
	var b strings.Builder
	b.WriteString(`<?php
// Written for this task when it started, from its environment.
if (!function_exists('getenv_docker')) {
	function getenv_docker($name, $fallback) {
		$file = getenv($name . '_FILE');
		if ($file) {
			return rtrim(file_get_contents($file), "\r\n");
		}
		$value = getenv($name);
		return $value === false ? $fallback : $value;
	}
}
define('DB_NAME', getenv_docker('WORDPRESS_DB_NAME', 'wordpress'));
define('DB_USER', getenv_docker('WORDPRESS_DB_USER', 'example username'));
define('DB_PASSWORD', getenv_docker('WORDPRESS_DB_PASSWORD', 'example password'));
define('DB_HOST', getenv_docker('WORDPRESS_DB_HOST', 'mysql'));
define('DB_CHARSET', getenv_docker('WORDPRESS_DB_CHARSET', 'utf8mb4'));
define('DB_COLLATE', getenv_docker('WORDPRESS_DB_COLLATE', ''));
`)
	for _, k := range []string{"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"} {
		fmt.Fprintf(&b, "define('%s', getenv_docker('WORDPRESS_%s', '%s'));\n", k, k, imageRandomKey())
	}
	b.WriteString(`$table_prefix = getenv_docker('WORDPRESS_TABLE_PREFIX', 'wp_');
define('WP_DEBUG', (bool) getenv_docker('WORDPRESS_DEBUG', ''));
if (isset($_SERVER['HTTP_X_FORWARDED_PROTO']) && strpos($_SERVER['HTTP_X_FORWARDED_PROTO'], 'https') !== false) {
	$_SERVER['HTTPS'] = 'on';
}
$extra = getenv_docker('WORDPRESS_CONFIG_EXTRA', '');
if ($extra) {
	eval($extra);
}
unset($extra);
if (!defined('ABSPATH')) {
	define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
`)
	return b.String()
}
