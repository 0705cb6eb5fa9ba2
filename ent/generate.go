// Package ent holds the generated storage model. Regenerate with `make generate`.
package ent

//go:generate go run -mod=mod entc.go
