//go:build tools

// Package pulumicli pins the Pulumi engine (CLI) that the tests use to validate
// Pulumi.yaml and stack files. The imports below are never compiled (build tag
// "tools"); they only make pkg/v3 and sdk/v3 requirements of this module so that
// scripts/build-pulumi.sh can `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`
// with the versions and hashes committed in go.mod / go.sum.
//
// sdk/v3 must be pinned here: pkg/v3's own `replace sdk/v3 => ../sdk` does not
// apply to a dependency. The version package is where the build stamps the
// version (-X .../go/common/version.Version=v3.248.0).
package pulumicli

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
