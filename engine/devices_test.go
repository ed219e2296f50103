package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/google/go-cmp/cmp"
)

func TestParseDevice(t *testing.T) {
	tests := []struct {
		spec string
		want Device
		err  string
	}{
		{spec: "/dev/loop-control", want: Device{Host: "/dev/loop-control", Path: "/dev/loop-control", Permissions: "rwm"}},
		{spec: "/dev/fuse:/dev/f", want: Device{Host: "/dev/fuse", Path: "/dev/f", Permissions: "rwm"}},
		{spec: "/dev/fuse:r", want: Device{Host: "/dev/fuse", Path: "/dev/fuse", Permissions: "r"}},
		{spec: "/dev/fuse:/dev/f:wr", want: Device{Host: "/dev/fuse", Path: "/dev/f", Permissions: "wr"}},
		{spec: "/dev//x/../fuse:/dev/./f/:m", want: Device{Host: "/dev/fuse", Path: "/dev/f", Permissions: "m"}},
		{spec: "", err: `host path "" is not absolute`},
		{spec: "dev/fuse", err: `host path "dev/fuse" is not absolute`},
		{spec: "/dev/fuse:f", err: `container path "f" is not absolute`},
		{spec: "/dev/fuse:/dev/f:rx", err: `permissions "rx" are not a set of r, w and m`},
		{spec: "/dev/fuse:/dev/f:rr", err: `permissions "rr" are not a set of r, w and m`},
		{spec: "/dev/fuse:/dev/f:", err: `permissions "" are not a set of r, w and m`},
		{spec: "/dev/fuse:/dev/f:r:w", err: "want HOST[:CONTAINER][:PERMISSIONS]"},
		{spec: "/dev/fuse:/dev", err: `container path "/dev" is not a file's`},
		{spec: "/dev/fuse:\x1b[2J", err: `container path "`}, // and no escape in the error
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			d, err := ParseDevice(tt.spec)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, d); diff != "" {
					t.Errorf("device (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v, want an error", d)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if strings.ContainsRune(err.Error(), 0x1b) {
				t.Errorf("error %q holds a control character", err)
			} else if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %q does not say %q", err, tt.err)
			}
		})
	}
}

// FuzzParseDevice: a spec is either refused as ErrInvalid or gives clean
// absolute paths and permissions a container's rule can hold.
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{"/dev/fuse", "/dev/fuse:/dev/f:rw", "/dev/fuse:m", "a:b:c:d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDevice(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		for _, p := range []string{d.Host, d.Path} {
			if !filepath.IsAbs(p) || filepath.Clean(p) != p || strings.Contains(p, ":") {
				t.Errorf("path %q of %q is not clean and absolute", p, s)
			}
		}
		if d.Path == "/" || d.Path == "/dev" {
			t.Errorf("container path %q of %q", d.Path, s)
		}
		if !validPermissions(d.Permissions) {
			t.Errorf("permissions %q of %q", d.Permissions, s)
		}
	})
}

func TestDeviceSettings(t *testing.T) {
	rules := []deviceRule{{'c', anyNumber, anyNumber, "m"}, {'c', 10, 237, "rw"}, {'b', 7, anyNumber, "r"}, {'a', 0, 0, "rwm"}}
	h, err := DetectCgroups(hybridMountinfo, "/sys/fs/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	c := h.Cgroup("c1")
	want := []Setting{
		{"/sys/fs/cgroup/devices/minidocker/c1/devices.deny", "a"},
		{"/sys/fs/cgroup/devices/minidocker/c1/devices.allow", "c *:* m"},
		{"/sys/fs/cgroup/devices/minidocker/c1/devices.allow", "c 10:237 rw"},
		{"/sys/fs/cgroup/devices/minidocker/c1/devices.allow", "b 7:* r"},
		{"/sys/fs/cgroup/devices/minidocker/c1/devices.allow", "a"},
	}
	if diff := cmp.Diff(want, c.deviceSettings(rules)); diff != "" {
		t.Errorf("v1 settings (-want +got):\n%s", diff)
	}
	if s := c.deviceSettings(nil); s != nil {
		t.Errorf("privileged: settings %v, want none", s)
	}
	if c.BPF != "" {
		t.Errorf("v1 devices and a device program (%s)", c.BPF)
	}
	v2, _ := DetectCgroups(v2Mountinfo, "/sys/fs/cgroup")
	if s := v2.Cgroup("c1").deviceSettings(rules); s != nil {
		t.Errorf("v2: settings %v, want none (a program)", s)
	}
}

func TestDeviceRules(t *testing.T) {
	spec := Spec{Devices: []Device{{Type: "c", Major: 10, Minor: 237, Permissions: "r"}, {Type: "b", Major: 7, Minor: 0, Permissions: "rwm"}}}
	var got []string
	for _, r := range deviceRules(spec) {
		got = append(got, r.String())
	}
	want := []string{"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
		"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:237 r", "b 7:0 rwm"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if r := deviceRules(Spec{Privileged: true, Devices: spec.Devices}); r != nil {
		t.Errorf("privileged: rules %v, want none", r)
	}
}

// TestDeviceProgramEncoding checks the program's bytes against the same
// program written with cilium/ebpf's assembler, jumps by label.
func TestDeviceProgramEncoding(t *testing.T) {
	rules := []deviceRule{{'c', anyNumber, anyNumber, "m"}, {'c', 1, 3, "rwm"}, {'b', 7, anyNumber, "rw"}, {'a', 0, 0, "r"}}
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.Mov.Reg32(asm.R3, asm.R2),
		asm.And.Imm32(asm.R2, 0xffff),
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
		// c *:* m
		asm.JNE.Imm(asm.R2, 2, "rule1"),
		asm.JSet.Imm(asm.R3, 6, "rule1"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		// c 1:3 rwm
		asm.JNE.Imm(asm.R2, 2, "rule2").WithSymbol("rule1"),
		asm.JNE.Imm(asm.R4, 1, "rule2"),
		asm.JNE.Imm(asm.R5, 3, "rule2"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		// b 7:* rw
		asm.JNE.Imm(asm.R2, 1, "rule3").WithSymbol("rule2"),
		asm.JSet.Imm(asm.R3, 1, "rule3"),
		asm.JNE.Imm(asm.R4, 7, "rule3"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		// a r
		asm.JSet.Imm(asm.R3, 5, "deny").WithSymbol("rule3"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("deny"),
		asm.Return(),
	}
	var want bytes.Buffer
	if err := insns.Marshal(&want, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	if got := encode(deviceProgram(rules)); !bytes.Equal(want.Bytes(), got) {
		t.Errorf("program:\n got %x\nwant %x", got, want.Bytes())
	}
}

// TestDeviceProgramDecides runs the default rules' program, in a small
// interpreter of the instructions it uses, on accesses whose answer the
// rules give as cgroup v1 would.
func TestDeviceProgramDecides(t *testing.T) {
	spec := Spec{Devices: []Device{{Type: "c", Major: 10, Minor: 237, Permissions: "r"}, {Type: "b", Major: 7, Minor: 0, Permissions: "w"}}}
	prog := deviceProgram(deviceRules(spec))
	tests := []struct {
		typ               byte
		major, minor, acc uint32
		allowed           bool
	}{
		{'c', 10, 183, devcgMknod, true},              // c *:* m
		{'b', 8, 0, devcgMknod, true},                 // b *:* m
		{'c', 10, 183, devcgRead, false},              // hwrng
		{'c', 10, 229, devcgRead | devcgWrite, false}, // fuse
		{'c', 4, 1, devcgWrite, false},                // tty1
		{'b', 7, 1, devcgRead, false},                 // loop1
		{'c', 1, 3, devcgRead | devcgWrite, true},     // null
		{'c', 1, 9, devcgRead, true},                  // urandom
		{'c', 5, 2, devcgRead | devcgWrite, true},     // ptmx
		{'c', 136, 42, devcgRead | devcgWrite, true},  // a pty
		{'b', 136, 42, devcgRead, false},              // not a block one
		{'c', 10, 237, devcgRead, true},               // --device r
		{'c', 10, 237, devcgWrite, false},
		{'c', 10, 237, devcgRead | devcgWrite, false},
		{'b', 7, 0, devcgWrite, true}, // --device w
		{'b', 7, 0, devcgRead, false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%c %d:%d %d", tt.typ, tt.major, tt.minor, tt.acc)
		typ := uint32(devcgChar)
		if tt.typ == 'b' {
			typ = devcgBlock
		}
		if got := runDeviceProgram(t, prog, [3]uint32{tt.acc<<16 | typ, tt.major, tt.minor}); got != tt.allowed {
			t.Errorf("%s: allowed %v, want %v", name, got, tt.allowed)
		}
	}
}

// runDeviceProgram interprets the instructions deviceProgram makes.
func runDeviceProgram(t *testing.T, p []bpfInsn, ctx [3]uint32) bool {
	t.Helper()
	var reg [11]uint64
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.op {
		case bpfLDX | bpfMEM | bpfW:
			reg[in.dst] = uint64(ctx[in.off/4])
		case bpfALU | bpfMOV | bpfX:
			reg[in.dst] = uint64(uint32(reg[in.src]))
		case bpfALU | bpfAND | bpfK:
			reg[in.dst] = uint64(uint32(reg[in.dst]) & uint32(in.imm))
		case bpfALU | bpfRSH | bpfK:
			reg[in.dst] = uint64(uint32(reg[in.dst]) >> in.imm)
		case bpfALU64 | bpfMOV | bpfK:
			reg[in.dst] = uint64(int64(in.imm))
		case bpfJMP | bpfJNE | bpfK:
			if reg[in.dst] != uint64(int64(in.imm)) {
				pc += int(in.off)
			}
		case bpfJMP | bpfJSET | bpfK:
			if reg[in.dst]&uint64(int64(in.imm)) != 0 {
				pc += int(in.off)
			}
		case bpfJMP | bpfEXIT:
			return reg[0] == 1
		default:
			t.Fatalf("instruction %d: opcode %#x", pc, in.op)
		}
	}
	t.Fatal("program ran off its end")
	return false
}
