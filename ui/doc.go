// Package ui is minidocker's terminal user interface.
package ui
