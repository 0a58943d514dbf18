//go:build tools

// Package pulumilanghost pins the Node.js language host (pulumi-language-nodejs)
// that the Pulumi engine in ../cli starts to run a TypeScript program. sdk/v3
// v3.68.0 is the last release the module proxy serves with the language host
// inside the sdk module; later releases moved it to its own module
// (sdk/nodejs/cmd/pulumi-language-nodejs/v3), which the proxy does not serve.
// The import is never compiled (build tag "tools"); it only makes sdk/v3 a
// requirement so that scripts/build-pulumi.sh can `go build` the command with
// the versions and hashes committed in go.mod / go.sum.
package pulumilanghost

import (
	_ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
)
