package lock

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// The lock process is the only thing the lock container runs: a static
// Linux program of a few dozen instructions that waits on its standard input
// (the holder's attach stream) and exits when that stream closes or stays
// silent for longer than the expiry. No image can be pulled, and an engine
// holds no image stack can count on, so stack writes the program itself and
// imports it as an image of one file per architecture.
//
// The program, in pseudo-C (the exit status tells a waiting run why the
// holder's lock ended):
//
//	for {
//		struct pollfd in = {.fd = 0, .events = POLLIN};
//		struct timespec t = {.tv_sec = expiry};
//		if (ppoll(&in, 1, &t, NULL, 0) <= 0) exit(exitSilent);
//		if (read(0, buf, 1) <= 0) exit(exitClosed);
//	}

// Exit statuses of the lock process, and the one a removal gives it.
const (
	exitClosed = 1   // its standard input closed: the holder's connection dropped
	exitSilent = 2   // no heartbeat within the expiry
	exitKilled = 137 // SIGKILL: the holder released it, or stack lock release removed it
)

// archs are the architectures the lock process is written for, as engines
// report them (GOARCH names).
var archs = []string{"amd64", "arm64"}

// programPath is where the program for arch lies in the lock image.
func programPath(arch string) string { return "/stack-lock-" + arch }

// program returns the lock process for arch, exiting after expiry without a
// heartbeat.
func program(arch string, expiry time.Duration) ([]byte, error) {
	secs := uint32(min(math.Ceil(expiry.Seconds()), 65535))
	switch arch {
	case "amd64":
		return elf(62, amd64(secs)), nil
	case "arm64":
		return elf(183, arm64(secs)), nil
	}
	return nil, fmt.Errorf("%w: the engine runs on %q", ErrArch, arch)
}

// amd64 is the program in x86-64 machine code (GNU as, Intel syntax). The
// stack holds the pollfd at rsp, the timespec at rsp+8 and the read buffer
// at rsp+24: the kernel leaves argc, argv and the environment there, which
// the program never reads.
func amd64(secs uint32) []byte {
	var b []byte
	b = append(b, 0x48, 0xb8, 0, 0, 0, 0, 1, 0, 0, 0)       // loop: movabs rax, 1<<32   ; pollfd{fd 0, events POLLIN}
	b = append(b, 0x48, 0x89, 0x04, 0x24)                   //       mov [rsp], rax
	b = append(b, 0x48, 0xc7, 0x44, 0x24, 0x08)             //       mov qword [rsp+8], secs ; tv_sec
	b = binary.LittleEndian.AppendUint32(b, secs)           //
	b = append(b, 0x48, 0xc7, 0x44, 0x24, 0x10, 0, 0, 0, 0) // mov qword [rsp+16], 0 ; tv_nsec
	b = append(b, 0xb8, 0x0f, 0x01, 0, 0)                   // mov eax, 271          ; ppoll
	b = append(b, 0x48, 0x89, 0xe7)                         // mov rdi, rsp
	b = append(b, 0xbe, 0x01, 0, 0, 0)                      // mov esi, 1
	b = append(b, 0x48, 0x8d, 0x54, 0x24, 0x08)             // lea rdx, [rsp+8]
	b = append(b, 0x45, 0x31, 0xd2)                         // xor r10d, r10d        ; no signal mask
	b = append(b, 0x45, 0x31, 0xc0)                         // xor r8d, r8d
	b = append(b, 0x0f, 0x05)                               // syscall
	b = append(b, 0xbf, exitSilent, 0, 0, 0)                // mov edi, exitSilent
	b = append(b, 0x48, 0x85, 0xc0)                         // test rax, rax
	b = append(b, 0x7e, 0x1a)                               // jle exit
	b = append(b, 0x31, 0xc0)                               // xor eax, eax          ; read
	b = append(b, 0x31, 0xff)                               // xor edi, edi          ; fd 0
	b = append(b, 0x48, 0x8d, 0x74, 0x24, 0x18)             // lea rsi, [rsp+24]
	b = append(b, 0xba, 0x01, 0, 0, 0)                      // mov edx, 1
	b = append(b, 0x0f, 0x05)                               // syscall
	b = append(b, 0xbf, exitClosed, 0, 0, 0)                // mov edi, exitClosed
	b = append(b, 0x48, 0x85, 0xc0)                         // test rax, rax
	b = append(b, 0x7f, 0xa2)                               // jg loop
	b = append(b, 0xb8, 0x3c, 0, 0, 0)                      // exit: mov eax, 60     ; exit(edi)
	b = append(b, 0x0f, 0x05)                               //       syscall
	return b
}

// arm64 is the program in AArch64 machine code, one word per instruction
// (LLVM's assembler), with the same stack layout as amd64.
func arm64(secs uint32) []byte {
	words := []uint32{
		0xd2800029,             // loop: mov x9, #1
		0xd3607d29,             //       lsl x9, x9, #32    ; pollfd{fd 0, events POLLIN}
		0xf90003e9,             //       str x9, [sp]
		0xd2800009 | secs<<5,   //       mov x9, #secs
		0xf90007e9,             //       str x9, [sp, #8]   ; tv_sec
		0xf9000bff,             //       str xzr, [sp, #16] ; tv_nsec
		0x910003e0,             //       mov x0, sp
		0xd2800021,             //       mov x1, #1
		0x910023e2,             //       add x2, sp, #8
		0xd2800003,             //       mov x3, #0         ; no signal mask
		0xd2800004,             //       mov x4, #0
		0xd2800928,             //       mov x8, #73        ; ppoll
		0xd4000001,             //       svc #0
		0xd2800000 | 2<<5 | 10, //      mov x10, #exitSilent
		0xf100001f,             //       cmp x0, #0
		0x5400012d,             //       b.le exit
		0xd2800000,             //       mov x0, #0         ; fd 0
		0x910063e1,             //       add x1, sp, #24
		0xd2800022,             //       mov x2, #1
		0xd28007e8,             //       mov x8, #63        ; read
		0xd4000001,             //       svc #0
		0xd2800000 | 1<<5 | 10, //      mov x10, #exitClosed
		0xf100001f,             //       cmp x0, #0
		0x54fffd2c,             //       b.gt loop
		0xaa0a03e0,             // exit: mov x0, x10
		0xd2800ba8,             //       mov x8, #93        ; exit(x0)
		0xd4000001,             //       svc #0
	}
	b := make([]byte, 0, 4*len(words))
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// elf wraps code in a static ELF64 little-endian executable for machine:
// the file header, one loadable read+execute segment mapping the whole
// file, and the code right after them, where execution starts.
func elf(machine uint16, code []byte) []byte {
	const (
		base       = 0x400000
		headerSize = 64
		phSize     = 56
		size       = headerSize + phSize
	)
	var b bytes.Buffer
	le := binary.LittleEndian
	put := func(v any) { _ = binary.Write(&b, le, v) }
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */, 0 /* System V */})
	b.Write(make([]byte, 8))
	put(uint16(2)) // ET_EXEC
	put(machine)
	put(uint32(1))           // version
	put(uint64(base + size)) // entry point
	put(uint64(headerSize))  // program headers' offset
	put(uint64(0))           // no section headers
	put(uint32(0))           // flags
	put(uint16(headerSize))
	put(uint16(phSize))
	put(uint16(1)) // one program header
	put(uint16(0)) // section header size, count, names index
	put(uint16(0))
	put(uint16(0))
	put(uint32(1)) // PT_LOAD
	put(uint32(5)) // PF_R|PF_X
	put(uint64(0)) // from the file's start
	put(uint64(base))
	put(uint64(base))
	put(uint64(size + len(code))) // file size
	put(uint64(size + len(code))) // memory size
	put(uint64(0x10000))          // alignment: 64 KiB pages included
	b.Write(code)
	return b.Bytes()
}

// imageTar is the lock image's only layer: the program for every
// architecture, executable by any user, so that the image is imported while
// the engine is asked which one it runs.
func imageTar(expiry time.Duration) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, arch := range archs {
		prog, _ := program(arch, expiry)
		_ = w.WriteHeader(&tar.Header{Name: programPath(arch)[1:], Mode: 0o555, Size: int64(len(prog)), Typeflag: tar.TypeReg})
		_, _ = w.Write(prog)
	}
	_ = w.Close()
	return b.Bytes()
}
