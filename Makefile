# The commands a person needs. Each target installs what it uses: Go modules
# come from the module proxy on first build, the local AWS services from npm.

GO        ?= go
STACK     ?= dev
FORMAT    ?= tree
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test demo plan night vet lint bench e2e ci clean moto

## test: set up the local AWS services and run the whole suite
test: node_modules moto
	$(GO) vet ./...
	$(GO) test ./...

## demo: the offline plan of both stacks, then a restart night against the local fleet
demo: node_modules
	$(GO) run ./cmd/plan --stack dev
	$(GO) run ./cmd/plan --stack prod
	scripts/night.sh

## night: only the restart night (SCALE=10 for ten times AWS's request rates)
night: node_modules
	scripts/night.sh

## plan: the offline plan of a stack (STACK=dev|prod, FORMAT=tree|json|mermaid)
plan:
	$(GO) run ./cmd/plan --stack $(STACK) --format $(FORMAT)

vet:
	$(GO) vet ./...

## lint: staticcheck, fetched through the module proxy
lint:
	$(GO) run $(STATICCHECK) ./...

## bench: speed and memory targets (planner, discovery, fleetsim)
bench: node_modules
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./restart/...

## e2e: the 10,000-service night with every fault, twice (about 7 minutes)
e2e: node_modules
	$(GO) test -tags e2e -run E2E -count=1 -v -timeout 30m ./restart/engine

## ci: everything CI runs
ci: test lint e2e

# dynalite (a real DynamoDB on 127.0.0.1) for the restart engine's tests;
# internal/testenv starts it per test binary.
node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# moto_server (Python) is the second opinion on ECS, STS and DynamoDB; the
# test that uses it is skipped without it.
moto:
	@command -v moto_server >/dev/null || echo "moto_server not found: the night against moto will be skipped; install it with: pip install 'moto[server]'"

clean:
	rm -rf node_modules bin .night
