// Runs one execution of a state machine definition with
// aws-local-stepfunctions: each Task state named in the config runs a
// command with the state's input as its last argument and the command's
// stdout (JSON) as the result, as a Lambda function would answer. Prints
// the execution's output as one line of JSON; a failed execution prints
// its error on stderr and exits 2. With "statsFile", it writes there what
// the execution did: its history events by type, the states entered by
// name, and each task invocation's wall time.
//
//   node local-sfn.cjs CONFIG.json
//
// CONFIG: {"library": path of aws-local-stepfunctions' main.node.cjs,
//          "definitionFile": ..., "tasks": {"State": [argv...]},
//          "waits": {"State": ms}, "retries": {"State": ms},
//          "context": {...}, "input": {...}, "statsFile": path}
'use strict';
const fs = require('fs');
const { spawnSync } = require('child_process');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { StateMachine } = require(cfg.library);
const definition = JSON.parse(fs.readFileSync(cfg.definitionFile, 'utf8'));

const stats = { events: {}, entered: {}, retried: {}, invocations: [] };

const handlers = {};
for (const [state, argv] of Object.entries(cfg.tasks)) {
  handlers[state] = (input) => {
    const event = JSON.stringify(input);
    process.stderr.write(`  ${state} ${event}\n`);
    // The wall time of the whole command, process start included: what a
    // cold Lambda would take at most, more than a warm one.
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], [...argv.slice(1), event], {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    });
    stats.invocations.push({ state, ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: !r.error && r.status === 0 });
    if (r.error) {
      throw r.error;
    }
    const out = r.stdout.toString();
    if (r.status !== 0) {
      // Lambda reports a handler's failure with its errorType, which Retry
      // and Catch match on; the command's message stands in for it.
      const err = new Error(`${state}: ${argv[0]} exited with status ${r.status}: ${out.trim()}`);
      err.name = (out.match(/"errorType"\s*:\s*"([^"]+)"/) || [, 'TaskFailed'])[1];
      throw err;
    }
    return JSON.parse(out);
  };
}

const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
const { result, eventLogs } = machine.run(cfg.input, {
  overrides: {
    taskResourceLocalHandlers: handlers,
    waitTimeOverrides: cfg.waits,
    retryIntervalOverrides: cfg.retries,
  },
  context: cfg.context,
});

// Every history event of the execution, nested Map iterations' included
// (the library forwards them to the root's log).
const counted = (async () => {
  for await (const ev of eventLogs) {
    stats.events[ev.type] = (stats.events[ev.type] || 0) + 1;
    if (ev.type === 'StateEntered') {
      stats.entered[ev.state.name] = (stats.entered[ev.state.name] || 0) + 1;
    } else if (ev.type === 'StateRetried') {
      stats.retried[ev.state.name] = (stats.retried[ev.state.name] || 0) + 1;
    }
  }
})();

const writeStats = () => {
  if (cfg.statsFile) {
    fs.writeFileSync(cfg.statsFile, JSON.stringify(stats) + '\n');
  }
};

result.then(
  async (out) => {
    await counted;
    writeStats();
    process.stdout.write(JSON.stringify(out) + '\n');
  },
  async (err) => {
    await counted;
    writeStats();
    process.stderr.write(`execution failed: ${err.name}: ${err.message}${err.cause ? ' (' + JSON.stringify(err.cause) + ')' : ''}\n`);
    process.exitCode = 2;
  },
);
