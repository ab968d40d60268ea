package store_test

import (
	"reflect"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/callsof"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// The pipeline grants the functions one DynamoDB action per method of
// store.API: a method the store never calls would be a grant nothing uses.
func TestTheStoreCallsEveryMethodOfItsAPI(t *testing.T) {
	unused, err := callsof.Unused(".", reflect.TypeFor[store.API]())
	if err != nil {
		t.Fatal(err)
	}
	if len(unused) > 0 {
		t.Errorf("store.API declares %v, which the store never calls: drop them (the pipeline grants dynamodb:<method> for each)", unused)
	}
}
