package settings

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"unicode/utf8"
)

// maxConfigFileBytes caps every configuration file; real ones are a few KiB.
const maxConfigFileBytes = 1 << 20

// readConfigFile returns the contents of a configuration file, or found=false
// when it does not exist (missing files are simply skipped).
//
// Policy for hostile files: symlinks are followed (dotfiles are commonly
// symlinked), but whatever the path finally names must be a regular file.
// FIFOs, devices, sockets and directories are refused before opening, and the
// file is opened with O_NONBLOCK and checked again through the open handle, so
// a FIFO swapped in between the two checks can never block the caller.
// Files larger than maxConfigFileBytes are refused, as is invalid UTF-8
// (Prefect reads these files as UTF-8 text).
func readConfigFile(path string) (data []byte, found bool, err error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fileError(path, "cannot be read", err)
	}
	if err := checkRegular(path, info); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fileError(path, "cannot be opened", err)
	}
	defer f.Close()
	info, err = f.Stat()
	if err != nil {
		return nil, false, fileError(path, "cannot be read", err)
	}
	if err := checkRegular(path, info); err != nil {
		return nil, false, err
	}
	data, err = io.ReadAll(io.LimitReader(f, maxConfigFileBytes+1))
	if err != nil {
		return nil, false, fileError(path, "cannot be read", err)
	}
	if len(data) > maxConfigFileBytes {
		return nil, false, tooLarge(path)
	}
	if !utf8.Valid(data) {
		return nil, false, &Error{File: path, Reason: "is not valid UTF-8 text"}
	}
	return data, true, nil
}

func checkRegular(path string, info fs.FileInfo) error {
	mode := info.Mode()
	if mode.IsRegular() {
		if info.Size() > maxConfigFileBytes {
			return tooLarge(path)
		}
		return nil
	}
	kind := "not a regular file"
	switch {
	case mode.IsDir():
		kind = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	}
	return &Error{File: path, Reason: "is " + kind + "; configuration files must be regular files (symlinks to regular files are fine)"}
}

func tooLarge(path string) error {
	return &Error{File: path, Reason: fmt.Sprintf("is larger than %d bytes; refusing to read it as a configuration file", maxConfigFileBytes)}
}

func fileError(path, what string, err error) error {
	// *fs.PathError text is "op path: errno"; keep only the errno part since
	// the path is already named.
	reason := err.Error()
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		reason = pathErr.Err.Error()
	}
	return &Error{File: path, Reason: what + ": " + reason, Err: err}
}
