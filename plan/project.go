package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is what the offline plan needs from Pulumi.yaml.
type Project struct {
	Name string
	// Defaults are the config defaults declared in Pulumi.yaml, as raw
	// config ("namespace:key" -> value).
	Defaults map[string]string
}

type projectFile struct {
	Name   string                   `yaml:"name"`
	Config map[string]projectConfig `yaml:"config"`
}

type projectConfig struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	Default     any    `yaml:"default"`
	Value       any    `yaml:"value"`
}

// LoadProject reads dir/Pulumi.yaml.
func LoadProject(dir string) (*Project, error) {
	b, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	var pf projectFile
	if err := yaml.Unmarshal(b, &pf); err != nil {
		return nil, fmt.Errorf("project file Pulumi.yaml: %w", err)
	}
	if pf.Name == "" {
		return nil, errors.New("project file Pulumi.yaml: the project has no name")
	}
	p := &Project{Name: pf.Name, Defaults: map[string]string{}}
	for key, c := range pf.Config {
		v := c.Default
		if v == nil {
			v = c.Value
		}
		if v == nil {
			continue
		}
		full := key
		if !strings.Contains(key, ":") {
			full = pf.Name + ":" + key
		}
		s, err := rawValue(v)
		if err != nil {
			return nil, fmt.Errorf("project file Pulumi.yaml: config %s: %w", key, err)
		}
		p.Defaults[full] = s
	}
	return p, nil
}

// StackConfig reads dir/Pulumi.<stack>.yaml and returns the raw config the
// engine would hand the program: the stack's values over the project's
// defaults. Secrets, which cannot be decrypted offline, become
// SecretPlaceholder.
func (p *Project) StackConfig(dir, stack string) (map[string]string, error) {
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("stack %q has no config file %s; known stacks: %s", stack, path, strings.Join(Stacks(dir), ", "))
	}
	if err != nil {
		return nil, err
	}
	var sf struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	raw := make(map[string]string, len(p.Defaults)+len(sf.Config))
	for k, v := range p.Defaults {
		raw[k] = v
	}
	for k, v := range sf.Config {
		s, err := rawValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", filepath.Base(path), k, err)
		}
		raw[k] = s
	}
	return raw, nil
}

// Stacks lists the stacks that have a Pulumi.<stack>.yaml in dir.
func Stacks(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// rawValue encodes a config value the way the engine passes it: strings
// as they are, everything else as JSON.
func rawValue(v any) (string, error) {
	v = stripSecure(v)
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// stripSecure replaces {secure: ...} values with the placeholder.
func stripSecure(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["secure"]; ok && len(x) == 1 {
			return SecretPlaceholder
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = stripSecure(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripSecure(e)
		}
		return out
	}
	return v
}

// Set changes one setting of raw config as `pulumi config set --path`
// would in the stack file: path is a project key with optional nested
// settings ("compute.adminCidrs"), or a "namespace:key" of another
// namespace; value is JSON, or a plain string when it does not parse as
// JSON. The offline plan uses it to show a stack with one setting changed
// without editing its file.
func (p *Project) Set(raw map[string]string, path, value string) error {
	if path == "" {
		return errors.New("set: the setting's path is empty; write key.sub=value, e.g. compute.desiredCount=2")
	}
	var v any = value
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		v = value
	}
	top, rest, nested := strings.Cut(path, ".")
	key := top
	if !strings.Contains(top, ":") {
		key = p.Name + ":" + top
	}
	if !nested {
		s, err := rawValue(v)
		if err != nil {
			return fmt.Errorf("set %s: %w", path, err)
		}
		raw[key] = s
		return nil
	}
	root := map[string]any{}
	if s, ok := raw[key]; ok && s != "" {
		if err := json.Unmarshal([]byte(s), &root); err != nil {
			return fmt.Errorf("set %s: %s is not an object of settings: %w", path, key, err)
		}
	}
	obj := root
	parts := strings.Split(rest, ".")
	for _, part := range parts[:len(parts)-1] {
		next, ok := obj[part].(map[string]any)
		if !ok {
			if obj[part] != nil {
				return fmt.Errorf("set %s: %s is not an object of settings", path, part)
			}
			next = map[string]any{}
			obj[part] = next
		}
		obj = next
	}
	obj[parts[len(parts)-1]] = v
	b, err := json.Marshal(root)
	if err != nil {
		return fmt.Errorf("set %s: %w", path, err)
	}
	raw[key] = string(b)
	return nil
}
