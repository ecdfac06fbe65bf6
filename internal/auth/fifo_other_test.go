//go:build !unix

package auth

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
