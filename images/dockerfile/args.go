package dockerfile

import (
	"slices"
	"strings"
)

// proxyArgs are the build args docker predefines: given with --build-arg
// they reach RUN without an ARG, are never reported unused, and stay out of
// the history and the cache text unless an ARG declares them (a proxy must
// not change an image). The list is the classic builder's.
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true,
	"HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true,
	"NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

// argScope is the set of ARGs one scope has declared: the global scope
// before the first FROM, or one stage. A declared ARG without a default has
// a nil value. Values resolve as docker's classic builder does: a build arg
// overrides everything; without one, an ARG with no default takes the
// global ARG of the same name; an undeclared proxy arg is visible when a
// build arg gives it.
type argScope struct {
	declared map[string]*string
	global   *argScope         // nil for the global scope itself
	options  map[string]string // --build-arg values
}

func newArgScope(global *argScope, options map[string]string) *argScope {
	return &argScope{declared: map[string]*string{}, global: global, options: options}
}

// declare records ARG key[=value]; a later ARG of the same name wins.
func (a *argScope) declare(key string, value *string) {
	a.declared[key] = value
}

// lookup returns the value of key in this scope and whether it has one.
func (a *argScope) lookup(key string) (string, bool) {
	def, isDeclared := a.declared[key]
	if !isDeclared && !proxyArgs[key] {
		return "", false
	}
	if v, ok := a.options[key]; ok {
		return v, true
	}
	if def == nil {
		if a.global != nil {
			if g := a.global.declared[key]; g != nil {
				return *g, true
			}
		}
		return "", false
	}
	return *def, true
}

// values returns the scope's ARGs that have a value as sorted "K=V" pairs,
// leaving out the keys in skip (an ENV of the same name wins over an ARG).
func (a *argScope) values(skip map[string]bool) []string {
	keys := make([]string, 0, len(a.declared)+len(proxyArgs))
	for k := range a.declared {
		keys = append(keys, k)
	}
	for k := range proxyArgs {
		if _, ok := a.declared[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		if skip[k] {
			continue
		}
		if v, ok := a.lookup(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// recorded reports whether an ARG value belongs in a RUN's history and
// cache text: every declared ARG does, an undeclared proxy arg does not.
func (a *argScope) recorded(key string) bool {
	_, ok := a.declared[key]
	return ok || !proxyArgs[key]
}

// envKeys returns the set of variable names in a KEY=VALUE list.
func envKeys(env []string) map[string]bool {
	keys := make(map[string]bool, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	return keys
}

// unusedArgs returns the build args that no ARG declares, sorted; docker
// warns about them ("One or more build-args [...] were not consumed").
// Proxy args are never unused.
func unusedArgs(options map[string]string, declared map[string]bool) []string {
	var out []string
	for k := range options {
		if !proxyArgs[k] && !declared[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
