// SPDX-License-Identifier: MIT

// A Binder client in Go written against the kernel API only (the ioctls of
// <linux/android/binder.h> on /dev/binder, through package syscall): it pings
// the context manager COUNT times and prints "ping ok COUNT". It runs
// unmodified through `ubinder-run --seccomp` (Go programs make their system
// calls themselves, so no preload library can reach them).
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

var (
	binderWriteRead = ioc(iocRead|iocWrite, 'b', 1, 48)
	binderVersion   = ioc(iocRead|iocWrite, 'b', 9, 4)
	bcTransaction   = uint32(ioc(iocWrite, 'c', 0, 64))
	bcFreeBuffer    = uint32(ioc(iocWrite, 'c', 3, 8))
	brReply         = uint32(ioc(iocRead, 'r', 3, 64))
	brDeadReply     = uint32(ioc(0, 'r', 5, 0))
	brFailedReply   = uint32(ioc(0, 'r', 17, 0))
)

const pingTransaction = uint32('_')<<24 | uint32('P')<<16 | uint32('N')<<8 | uint32('G')

// struct binder_write_read
type writeRead struct {
	writeSize, writeConsumed, writeBuffer uint64
	readSize, readConsumed, readBuffer    uint64
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func writeReadCall(fd int, w, r []byte) (int, error) {
	var bwr writeRead
	if len(w) > 0 {
		bwr.writeSize = uint64(len(w))
		bwr.writeBuffer = uint64(uintptr(unsafe.Pointer(&w[0])))
	}
	if len(r) > 0 {
		bwr.readSize = uint64(len(r))
		bwr.readBuffer = uint64(uintptr(unsafe.Pointer(&r[0])))
	}
	err := ioctl(fd, binderWriteRead, unsafe.Pointer(&bwr))
	return int(bwr.readConsumed), err
}

func ping(fd int) error {
	w := make([]byte, 4+64)
	binary.LittleEndian.PutUint32(w[0:], bcTransaction)
	// binder_transaction_data: target.handle 0, cookie 0, code at offset 16
	binary.LittleEndian.PutUint32(w[4+16:], pingTransaction)
	r := make([]byte, 512)
	for round := 0; round < 16; round++ {
		got, err := writeReadCall(fd, w, r)
		if err != nil {
			return err
		}
		w = nil
		for pos := 0; pos+4 <= got; {
			cmd := binary.LittleEndian.Uint32(r[pos:])
			pos += 4
			switch cmd {
			case brReply:
				// data.ptr.buffer at offset 48 of binder_transaction_data
				buffer := binary.LittleEndian.Uint64(r[pos+48:])
				f := make([]byte, 12)
				binary.LittleEndian.PutUint32(f[0:], bcFreeBuffer)
				binary.LittleEndian.PutUint64(f[4:], buffer)
				_, err := writeReadCall(fd, f, nil)
				return err
			case brDeadReply, brFailedReply:
				return fmt.Errorf("call failed (0x%x)", cmd)
			}
			pos += int(cmd>>16) & 0x3fff
		}
	}
	return fmt.Errorf("no reply")
}

func main() {
	// A Binder thread is an OS thread: the reply comes to the thread that called.
	runtime.LockOSThread()
	count := 1
	if len(os.Args) > 1 {
		count, _ = strconv.Atoi(os.Args[1])
	}
	fd, err := syscall.Open("/dev/binder", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ping: /dev/binder:", err)
		os.Exit(1)
	}
	var version int32
	if err := ioctl(fd, binderVersion, unsafe.Pointer(&version)); err != nil || version != 8 {
		fmt.Fprintln(os.Stderr, "ping: BINDER_VERSION:", err, version)
		os.Exit(1)
	}
	if _, err := syscall.Mmap(fd, 0, 128*1024, syscall.PROT_READ, syscall.MAP_PRIVATE); err != nil {
		fmt.Fprintln(os.Stderr, "ping: mmap:", err)
		os.Exit(1)
	}
	for i := 0; i < count; i++ {
		if err := ping(fd); err != nil {
			fmt.Fprintln(os.Stderr, "ping:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("ping ok %d\n", count)
}
