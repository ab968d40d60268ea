package wplocal_test

import (
	"slices"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/compute"
)

// keyRemovals are the keys and salts TestEveryKeyAndSaltMustBeShared...
// (build tag wordpress) removes, each on a stack whose logins read it.
var keyRemovals = []struct {
	stack string
	keys  []string
}{
	{"dev", []string{"WORDPRESS_AUTH_KEY", "WORDPRESS_AUTH_SALT", "WORDPRESS_LOGGED_IN_KEY", "WORDPRESS_LOGGED_IN_SALT", "WORDPRESS_NONCE_KEY", "WORDPRESS_NONCE_SALT"}},
	{"prod", []string{"WORDPRESS_SECURE_AUTH_KEY", "WORDPRESS_SECURE_AUTH_SALT"}},
}

func TestTheKeyRemovalsCoverEveryKeyAndSaltOnce(t *testing.T) {
	var all []string
	for _, c := range keyRemovals {
		all = append(all, c.keys...)
	}
	slices.Sort(all)
	want := slices.Clone(compute.AuthKeyVariables)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("the local runs remove %v, want each of %v once", all, want)
	}
}
