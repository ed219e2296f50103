package engine

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On cgroup v2 the device cgroup is a BPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup: the
// kernel runs it at each mknod(2) and open(2) of a device node by a
// process of the cgroup, and refuses with EPERM when it returns 0.
//
// The program is a few instructions a rule, assembled here rather than with
// github.com/cilium/ebpf: its asm package alone brings go/parser,
// encoding/xml and debug/dwarf into the binary, whose package
// initialisation every re-executed minidocker (CLI, monitor, init) would
// pay at each start. The tests check the encoding against cilium's
// assembler. It is loaded with two bpf(2) calls, by the monitor while the
// init mounts the container's root file system, and attached before the
// init may execute the command.

// bpfInsn is one eBPF instruction (linux/bpf.h, struct bpf_insn).
type bpfInsn struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
}

// Instruction classes, operations and sources (linux/bpf_common.h, bpf.h).
const (
	bpfLDX   = 0x01
	bpfALU   = 0x04 // 32-bit
	bpfJMP   = 0x05
	bpfALU64 = 0x07
	bpfMEM   = 0x60
	bpfW     = 0x00
	bpfK     = 0x00
	bpfX     = 0x08
	bpfAND   = 0x50
	bpfRSH   = 0x70
	bpfMOV   = 0xb0
	bpfJNE   = 0x50
	bpfJSET  = 0x40
	bpfEXIT  = 0x90
)

// Registers: r0 the result, r1 the context; r2-r5 hold the access's
// device type, access, major and minor.
const (
	r0, r1, rType, rAccess, rMajor, rMinor = 0, 1, 2, 3, 4, 5
)

// struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major,
// minor, each a u32; BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* values.
const (
	devCtxAccessType, devCtxMajor, devCtxMinor = 0, 4, 8
	devcgBlock, devcgChar                      = 1, 2
	devcgMknod, devcgRead, devcgWrite          = 1, 2, 4
)

// deviceProgram assembles rules into a program that returns 1 (allow) for
// an access one of them allows, else 0. Each rule is a block of tests that
// jump to the next block when one fails, and "return 1" when all pass.
func deviceProgram(rules []deviceRule) []bpfInsn {
	p := []bpfInsn{
		{op: bpfLDX | bpfMEM | bpfW, dst: rType, src: r1, off: devCtxAccessType},
		{op: bpfALU | bpfMOV | bpfX, dst: rAccess, src: rType},
		{op: bpfALU | bpfAND | bpfK, dst: rType, imm: 0xffff},
		{op: bpfALU | bpfRSH | bpfK, dst: rAccess, imm: 16},
		{op: bpfLDX | bpfMEM | bpfW, dst: rMajor, src: r1, off: devCtxMajor},
		{op: bpfLDX | bpfMEM | bpfW, dst: rMinor, src: r1, off: devCtxMinor},
	}
	for _, r := range rules {
		var tests []bpfInsn
		switch r.Type {
		case 'c':
			tests = append(tests, bpfInsn{op: bpfJMP | bpfJNE | bpfK, dst: rType, imm: devcgChar})
		case 'b':
			tests = append(tests, bpfInsn{op: bpfJMP | bpfJNE | bpfK, dst: rType, imm: devcgBlock})
		}
		if denied := (devcgMknod | devcgRead | devcgWrite) &^ accessBits(r.Access); denied != 0 {
			// Any access bit the rule does not grant fails it.
			tests = append(tests, bpfInsn{op: bpfJMP | bpfJSET | bpfK, dst: rAccess, imm: int32(denied)})
		}
		if r.Type != 'a' && r.Major != anyNumber {
			tests = append(tests, bpfInsn{op: bpfJMP | bpfJNE | bpfK, dst: rMajor, imm: int32(r.Major)})
		}
		if r.Type != 'a' && r.Minor != anyNumber {
			tests = append(tests, bpfInsn{op: bpfJMP | bpfJNE | bpfK, dst: rMinor, imm: int32(r.Minor)})
		}
		// Past the tests is "r0 = 1; exit": two instructions.
		for i := range tests {
			tests[i].off = int16(len(tests) - i - 1 + 2)
		}
		p = append(p, tests...)
		p = append(p, bpfInsn{op: bpfALU64 | bpfMOV | bpfK, dst: r0, imm: 1}, bpfInsn{op: bpfJMP | bpfEXIT})
	}
	return append(p, bpfInsn{op: bpfALU64 | bpfMOV | bpfK, dst: r0, imm: 0}, bpfInsn{op: bpfJMP | bpfEXIT})
}

// accessBits are the BPF_DEVCG_ACC_* bits of "rwm" letters.
func accessBits(access string) int {
	bits := 0
	for _, c := range access {
		switch c {
		case 'm':
			bits |= devcgMknod
		case 'r':
			bits |= devcgRead
		case 'w':
			bits |= devcgWrite
		}
	}
	return bits
}

// encode is p in the kernel's format, on a little-endian machine: the
// destination register in the low nibble of the second byte.
func encode(p []bpfInsn) []byte {
	b := make([]byte, 0, 8*len(p))
	for _, in := range p {
		b = append(b, in.op, in.dst&0xf|in.src<<4)
		b = binary.LittleEndian.AppendUint16(b, uint16(in.off))
		b = binary.LittleEndian.AppendUint32(b, uint32(in.imm))
	}
	return b
}

// progLoadAttr is union bpf_attr for BPF_PROG_LOAD, up to
// expected_attach_type; the pointers are __aligned_u64, which is what an
// unsafe.Pointer is on the 64-bit machines minidocker runs on.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       unsafe.Pointer
	license     unsafe.Pointer
	logLevel    uint32
	logSize     uint32
	logBuf      unsafe.Pointer
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
	ifindex     uint32
	attachType  uint32
}

// progAttachAttr is union bpf_attr for BPF_PROG_ATTACH.
type progAttachAttr struct {
	targetFd, attachBpfFd, attachType, attachFlags, replaceBpfFd uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// devicePolicy is a container's device program, loaded but not attached.
type devicePolicy struct{ fd int }

// loadDevicePolicy loads the device program of spec when c filters
// devices with one (cgroup v2); nil when it does not, or the container is
// privileged.
func loadDevicePolicy(c Cgroup, spec Spec) (*devicePolicy, error) {
	rules := deviceRules(spec)
	if c.BPF == "" || rules == nil {
		return nil, nil
	}
	code := encode(deviceProgram(rules))
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(code) / 8),
		insns:    unsafe.Pointer(&code[0]),
		license:  unsafe.Pointer(&license[0]),
	}
	copy(attr.progName[:], "minidocker_dev")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		// Again with the verifier's log, to say why.
		log := make([]byte, 4096)
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), unsafe.Pointer(&log[0])
		bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(code)
		runtime.KeepAlive(license)
		return nil, fmt.Errorf("load device program: bpf BPF_PROG_LOAD (BPF_PROG_TYPE_CGROUP_DEVICE): %w: %s", err, cString(log))
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	return &devicePolicy{fd: fd}, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// attach attaches the program to the cgroup dir, where it stays until the
// cgroup is removed, and closes it. BPF_F_ALLOW_MULTI: a program of a
// cgroup below, if any is ever attached, runs as well, not instead.
func (p *devicePolicy) attach(dir string) error {
	if p == nil {
		return nil
	}
	defer p.close()
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("attach device program: open %s: %w", dir, err)
	}
	defer unix.Close(cg)
	attr := progAttachAttr{targetFd: uint32(cg), attachBpfFd: uint32(p.fd),
		attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("attach device program to %s: bpf BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI): %w", dir, err)
	}
	return nil
}

// close releases the program; once attached, the cgroup keeps it.
func (p *devicePolicy) close() {
	if p != nil && p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
}
