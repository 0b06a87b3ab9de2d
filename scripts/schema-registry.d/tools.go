//go:build tools

// The AxonOps Schema Registry (Apache-2.0, Confluent-compatible API and errors) is not
// installable with `go install ...@version` (its go.mod has replace directives), so this module
// requires it and scripts/schema-registry builds its command from here.
package tools

import _ "github.com/axonops/axonops-schema-registry/cmd/schema-registry"
