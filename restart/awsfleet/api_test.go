package awsfleet_test

import (
	"reflect"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/callsof"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
)

// The member role is granted one ECS action per method of awsfleet.ECS: a
// method the fleet never calls would be a grant nothing uses.
func TestTheFleetCallsEveryMethodOfItsECSInterface(t *testing.T) {
	unused, err := callsof.Unused(".", reflect.TypeFor[awsfleet.ECS]())
	if err != nil {
		t.Fatal(err)
	}
	if len(unused) > 0 {
		t.Errorf("awsfleet.ECS declares %v, which the fleet never calls: drop them (the member role is granted ecs:<method> for each)", unused)
	}
}
