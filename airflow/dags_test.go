package airflow_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/airflow"
)

// Apache Airflow cannot be installed on the machines that run these tests,
// so the DAGs are checked with the machine's python3: they compile, they
// import nothing but Airflow and the standard library, and, run against a
// stand-in for Airflow's decorators, they declare the DAG we promise.

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: the DAG checks need it (the DAGs themselves run on MWAA, not here)")
	}
	return py
}

// dagFiles lists the Python files under dags/, as paths on disk.
func dagFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("dags", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "__pycache__" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".py") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no DAG files under dags/")
	}
	return files
}

func inspect(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(python(t), append([]string{filepath.Join("testdata", "inspect_dag.py")}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPYCACHEPREFIX="+t.TempDir(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("inspect_dag.py %v: %v\n%s", args, err, stderr)
	}
	return out
}

func TestEveryDAGCompiles(t *testing.T) {
	py := python(t)
	for _, f := range dagFiles(t) {
		cmd := exec.Command(py, "-m", "py_compile", f)
		// Keep the byte code out of the repository.
		cmd.Env = append(os.Environ(), "PYTHONPYCACHEPREFIX="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not compile: %v\n%s", f, err, out)
		}
	}
}

type importReport struct {
	Imports []struct {
		Module string
		Top    string
		Stdlib bool
	}
	Toplevel []string
}

// disallowedImports returns the imports of file that MWAA's image would not
// be sure to have: anything but Airflow and the standard library (MWAA
// installs extra packages only from a requirements.txt, which we do not
// ship).
func disallowedImports(t *testing.T, file string) []string {
	t.Helper()
	var r importReport
	if err := json.Unmarshal(inspect(t, "imports", file), &r); err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, im := range r.Imports {
		if !im.Stdlib && im.Top != "airflow" {
			bad = append(bad, im.Module)
		}
	}
	return bad
}

func TestDAGsImportOnlyAirflowAndTheStandardLibrary(t *testing.T) {
	for _, f := range dagFiles(t) {
		if bad := disallowedImports(t, f); len(bad) > 0 {
			t.Errorf("%s imports %v; DAGs may import only airflow and the standard library", f, bad)
		}
	}
}

func TestImportCheckRejectsThirdPartyAndRelativeImports(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad_dag.py")
	src := "import json\nimport pandas as pd\nfrom requests.adapters import HTTPAdapter\nfrom . import helpers\nfrom airflow.sdk import dag\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := disallowedImports(t, file)
	want := []string{"pandas", "requests.adapters", "."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("disallowed imports = %v, want %v", got, want)
	}
}

func TestDAGFilesDoNoWorkAtParseTime(t *testing.T) {
	// The scheduler imports every DAG file every few seconds: the top
	// level may only import, define and assign, and call the @dag
	// function once to register it.
	allowed := []string{"Docstring", "Import", "ImportFrom", "Try", "Assign", "AnnAssign", "FunctionDef"}
	for _, f := range dagFiles(t) {
		var r importReport
		if err := json.Unmarshal(inspect(t, "imports", f), &r); err != nil {
			t.Fatal(err)
		}
		calls := 0
		for _, kind := range r.Toplevel {
			switch {
			case kind == "Call":
				calls++
			case !slices.Contains(allowed, kind):
				t.Errorf("%s has a top-level %s statement; put work inside a task", f, kind)
			}
		}
		if calls != 1 {
			t.Errorf("%s makes %d top-level calls, want exactly 1 (the @dag function)", f, calls)
		}
	}
}

type dagRecord struct {
	DagID             string `json:"dag_id"`
	Schedule          string
	Catchup           *bool
	StartDateAware    bool     `json:"start_date_aware"`
	DefaultArgs       []string `json:"default_args"`
	Retries           int
	RetryDelaySeconds float64 `json:"retry_delay_seconds"`
	Tasks             []struct {
		TaskID   string `json:"task_id"`
		Upstream []string
	}
	Results map[string]string
}

func TestHelloNequiDeclaresTheSameDAGOnAirflow2And3(t *testing.T) {
	// "sdk" is Airflow 3's airflow.sdk; "decorators" is Airflow 2's
	// airflow.decorators, which the DAG falls back to.
	for _, flavour := range []string{"sdk", "decorators"} {
		t.Run(flavour, func(t *testing.T) {
			var out struct{ Dags []dagRecord }
			if err := json.Unmarshal(inspect(t, "run", filepath.Join("dags", "hello_nequi_dag.py"), flavour), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Dags) != 1 {
				t.Fatalf("DAGs declared = %d, want 1", len(out.Dags))
			}
			d := out.Dags[0]
			if d.DagID != "hello_nequi" || d.Schedule != "@daily" || d.Catchup == nil || *d.Catchup {
				catchup := "unset"
				if d.Catchup != nil {
					catchup = itoa(*d.Catchup)
				}
				t.Errorf("dag_id=%q schedule=%q catchup=%s, want hello_nequi, @daily, false", d.DagID, d.Schedule, catchup)
			}
			if !d.StartDateAware {
				t.Error("start_date has no time zone; Airflow would read it in the scheduler's zone")
			}
			if !reflect.DeepEqual(d.DefaultArgs, []string{"owner", "retries", "retry_delay"}) || d.Retries < 1 || d.RetryDelaySeconds <= 0 {
				t.Errorf("default_args = %v (retries %d, delay %vs), want owner, retries >= 1 and a retry delay", d.DefaultArgs, d.Retries, d.RetryDelaySeconds)
			}
			if len(d.Tasks) != 2 || d.Tasks[0].TaskID != "say_hello" || !reflect.DeepEqual(d.Tasks[1].Upstream, []string{"say_hello"}) {
				t.Fatalf("tasks = %+v, want say_hello then a task fed by its return value", d.Tasks)
			}
			greeting := d.Results["say_hello"]
			if !strings.Contains(greeting, "Hello") || !strings.Contains(greeting, "2026-11-27") {
				t.Errorf("say_hello returned %s, want a greeting with the run's logical date", greeting)
			}
			// pass_it_on returns the length of what it received, so this
			// holds only if it got say_hello's return value.
			if want := len(strings.Trim(greeting, "'")); d.Results["pass_it_on"] != itoa(want) {
				t.Errorf("pass_it_on returned %s, want %d (the length of say_hello's greeting)", d.Results["pass_it_on"], want)
			}
		})
	}
}

func itoa(n any) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestEveryFileUnderDagsIsEmbedded(t *testing.T) {
	// go:embed skips names starting with "." or "_": such a file would
	// silently never reach the bucket.
	var onDisk, embedded []string
	_ = filepath.WalkDir("dags", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "__pycache__" {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel("dags", p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	_ = fs.WalkDir(airflow.DAGs, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			embedded = append(embedded, p)
		}
		return err
	})
	if !reflect.DeepEqual(onDisk, embedded) {
		t.Errorf("files under dags/ = %v, embedded = %v; rename files that start with \".\" or \"_\"", onDisk, embedded)
	}
}
