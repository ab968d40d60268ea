"""Inspects a DAG file without Airflow, for the Go tests.

  inspect_dag.py imports FILE
      prints {"imports": [{"module": "x.y", "top": "x", "stdlib": bool}],
              "toplevel": ["Import", "FunctionDef", ...]}
  inspect_dag.py run FILE sdk|decorators
      imports FILE against a stand-in for airflow.sdk (Airflow 3) or
      airflow.decorators (Airflow 2) that records what the decorators are
      given, then runs the tasks in dependency order; prints the record.
"""

import ast
import datetime
import json
import os
import runpy
import sys
import tempfile


def imports(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        for n in names:
            top = n.split(".")[0]
            found.append({"module": n, "top": top, "stdlib": top in sys.stdlib_module_names})
    kinds = []
    for node in tree.body:
        kind = type(node).__name__
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            kind = "Call"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            kind = "Docstring"
        kinds.append(kind)
    return {"imports": found, "toplevel": kinds}


STUB = '''
import sys
RECORD = sys.modules.setdefault("_dag_record", type(sys)("_dag_record"))
RECORD.dags = getattr(RECORD, "dags", [])
RECORD.calls = getattr(RECORD, "calls", 0)

class XComArg:
    def __init__(self, task_id):
        self.task_id = task_id

class _Task:
    def __init__(self, fn):
        self.fn, self.task_id = fn, fn.__name__
    def __call__(self, *args, **kwargs):
        cur = RECORD.current
        upstream = [a.task_id for a in list(args) + list(kwargs.values()) if isinstance(a, XComArg)]
        cur["tasks"].append({"task_id": self.task_id, "upstream": upstream})
        cur["fns"][self.task_id] = (self.fn, args, kwargs)
        return XComArg(self.task_id)

def task(fn=None, **kw):
    return _Task(fn) if fn is not None else _Task

def dag(**kw):
    def deco(fn):
        def build():
            RECORD.current = {"kwargs": kw, "tasks": [], "fns": {}}
            fn()
            RECORD.dags.append(RECORD.current)
        return build
    return deco
'''


def run(path, flavour):
    stub = tempfile.mkdtemp()
    pkg = os.path.join(stub, "airflow")
    os.mkdir(pkg)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    with open(os.path.join(pkg, "sdk.py" if flavour == "sdk" else "decorators.py"), "w") as f:
        f.write(STUB)
    sys.path.insert(0, stub)
    import logging
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    runpy.run_path(path, run_name="dag_under_test")
    record = sys.modules["_dag_record"]
    out = []
    for d in record.dags:
        kw = d["kwargs"]
        args = kw.get("default_args", {})
        results = {}
        logical = datetime.datetime(2026, 11, 27, tzinfo=datetime.timezone.utc)
        for t in d["tasks"]:
            fn, a, k = d["fns"][t["task_id"]]
            resolve = lambda v: results[v.task_id] if type(v).__name__ == "XComArg" else v
            a = [resolve(v) for v in a]
            k = {n: resolve(v) for n, v in k.items()}
            if "logical_date" in fn.__code__.co_varnames[: fn.__code__.co_argcount]:
                k["logical_date"] = logical
            results[t["task_id"]] = fn(*a, **k)
        out.append({
            "dag_id": kw.get("dag_id"),
            "schedule": kw.get("schedule"),
            "catchup": kw.get("catchup"),
            "start_date_aware": getattr(kw.get("start_date"), "tzinfo", None) is not None,
            "default_args": sorted(args),
            "retries": args.get("retries"),
            "retry_delay_seconds": args["retry_delay"].total_seconds() if "retry_delay" in args else None,
            "tasks": [{"task_id": t["task_id"], "upstream": t["upstream"]} for t in d["tasks"]],
            "results": {n: repr(v) for n, v in results.items()},
        })
    return {"dags": out}


if __name__ == "__main__":
    cmd, path = sys.argv[1], sys.argv[2]
    result = imports(path) if cmd == "imports" else run(path, sys.argv[3])
    json.dump(result, sys.stdout)
