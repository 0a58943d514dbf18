//go:build tools

// Package dockerdtools pins moby's dockerd 20.10.24 for the real-lab tests that need the
// consul cluster-store backend (Debian's docker.io is built without it). The import is never
// compiled (build tag "tools"); it makes github.com/docker/docker a requirement of this module so
// that scripts/build-dockerd.sh can `go build github.com/docker/docker/cmd/dockerd` with the
// versions in go.mod (generated from dockerd's vendor.conf by gen-gomod.sh) and the hashes in go.sum.
package dockerdtools

import (
	_ "github.com/docker/docker/cmd/dockerd"
)
