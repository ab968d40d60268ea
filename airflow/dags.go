// Package airflow is the optional managed Airflow (Amazon MWAA) environment
// and the DAGs it runs, which live beside it in dags/.
package airflow

import (
	"embed"
	"io/fs"
)

//go:embed dags
var embedded embed.FS

// DAGs holds every file under airflow/dags/, compiled into the program so
// that the upload does not depend on the directory `pulumi` runs from.
// (go:embed leaves out names starting with "." or "_", such as
// __pycache__.)
var DAGs fs.FS = mustSub(embedded, "dags")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
