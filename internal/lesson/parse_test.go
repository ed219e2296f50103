package lesson

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"minidocker/demo"
)

const sample = "# Whiteout\n" + // 1
	"\n" + // 2
	"Intro text.\n" + // 3
	"\n" + // 4
	"```lesson\n" + // 5
	"image: learn\n" + // 6
	"volume: v:/data\n" + // 7
	"hint-after: 45s\n" + // 8
	"```\n" + // 9
	"\n" + // 10
	"## Delete a file\n" + // 11
	"\n" + // 12
	"Delete it:\n" + // 13
	"\n" + // 14
	"```sh\n" + // 15
	"rm /a\n" + // 16
	"```\n" + // 17
	"\n" + // 18
	"```check\n" + // 19
	"upper whiteout /a\n" + // 20
	"# a comment\n" + // 21
	"not merged contains /b \"two words\"\n" + // 22
	"commit entry app/.wh.a whiteout\n" + // 23
	"```\n" + // 24
	"```hint 5s\n" + // 25
	"Use rm.\n" + // 26
	"```\n" + // 27
	"```solution\n" + // 28
	"rm /a\n" + // 29
	"```\n" + // 30
	"```wrong\n" + // 31
	"rm /b\n" + // 32
	"```\n" + // 33
	"## Reset\n" + // 34
	"```check\n" + // 35
	"container reset\n" + // 36
	"```\n" // 37

func TestLessonParse(t *testing.T) {
	got, err := Parse("03-whiteout.md", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := &Lesson{
		Name: "whiteout", File: "03-whiteout.md", Title: "Whiteout", Intro: "Intro text.",
		Image: "learn", Volumes: []string{"v:/data"}, Containers: 1,
		Steps: []Step{{
			Title: "Delete a file", Text: "Delete it:\n\n```sh\nrm /a\n```", Line: 11,
			Checks: []Check{
				{Where: Upper, What: "whiteout", Path: "/a", Line: 20},
				{Not: true, Where: Merged, What: "contains", Path: "/b", Args: []string{"two words"}, Line: 22},
				{Where: Commit, What: "entry", Path: "app/.wh.a", Args: []string{"whiteout"}, Line: 23},
			},
			Hint: "Use rm.", HintAfter: 5 * time.Second,
			Solution: []string{"rm /a"}, Wrong: []string{"rm /b"},
		}, {
			Title: "Reset", Line: 34, HintAfter: 45 * time.Second,
			Checks: []Check{{Where: Container, What: "reset", Line: 36}},
		}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
	if s := got.Steps[0].Checks[1].String(); s != `not merged contains /b "two words"` {
		t.Errorf("String = %s", s)
	}
}

// TestLessonParseErrors checks that each mistake is named with its file
// and its line.
func TestLessonParseErrors(t *testing.T) {
	head := "# T\n```lesson\nimage: x\n```\n## S\n" // lines 1-5
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown check", head + "```check\nupper whitout /a\n```\n", `x.md:7: check "upper whitout /a": unknown check "whitout"`},
		{"unknown place", head + "```check\nlowest file /a\n```\n", `x.md:7: check "lowest file /a": unknown place "lowest"`},
		{"wrong place", head + "```check\nmerged whiteout /a\n```\n", `x.md:7: check "merged whiteout /a": merged whiteout: whiteout is checked only in upper`},
		{"relative path", head + "```check\nupper file a\n```\n", `x.md:7: check "upper file a": path "a": want an absolute, clean path`},
		{"missing argument", head + "```check\n\nupper nlink /a\n```\n", `x.md:8: check "upper nlink /a": upper nlink: want PATH COUNT`},
		{"bad mode", head + "```check\nupper mode /a 999\n```\n", `x.md:7: check "upper mode /a 999": mode "999"`},
		{"open quote", head + "```check\nupper contains /a \"x\n```\n", `x.md:7: check "upper contains /a \"x": unterminated quote`},
		{"unclosed block", head + "```check\nupper file /a\n", `x.md:6: the "check" block is not closed`},
		{"step without check", head + "text\n## S2\n```check\nupper file /a\n```\n", `x.md:5: step "S" has no check block`},
		{"unknown block", head + "```chek\nupper file /a\n```\n", `x.md:6: unknown block "chek"`},
		{"bad hint time", head + "```check\nupper file /a\n```\n```hint soon\nh\n```\n", `x.md:9: hint after "soon"`},
		{"no title", "text\n", `x.md:1: text before the title`},
		{"no image", "# T\n## S\n```check\nupper file /a\n```\n", `x.md:5: no lesson block naming the image`},
		{"unknown key", "# T\n```lesson\nimage: x\ncolour: red\n```\n", `x.md:4: unknown key "colour"`},
		{"no steps", "# T\n```lesson\nimage: x\n```\n", `x.md:4: no steps`},
		{"commit path", head + "```check\ncommit entry /app\n```\n", `x.md:7: check "commit entry /app": commit entry "/app"`},
		{"control characters", head + "```check\nupper file /a\x1b[2J\n```\n", `\x1b[2J`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q; want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v is not ErrSyntax", err)
			}
			if strings.ContainsRune(err.Error(), 0x1b) {
				t.Errorf("error %q prints a control character", err)
			}
		})
	}
}

// TestLessonSet loads the lessons the binary embeds: each parses, names an
// image it can get, and has for every step the commands the end-to-end
// test types.
func TestLessonSet(t *testing.T) {
	fsys, err := demo.Lessons()
	if err != nil {
		t.Fatal(err)
	}
	ls, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) < 9 {
		t.Errorf("%d lessons; want at least 9", len(ls))
	}
	for _, l := range ls {
		if l.Image != "base" && l.Dockerfile == "" {
			t.Errorf("%s: image %s has no Dockerfile in the set", l.File, l.Image)
		}
		for _, s := range l.Steps {
			if len(s.Solution) == 0 || len(s.Wrong) == 0 || s.Hint == "" {
				t.Errorf("%s:%d: step %q lacks a solution, a wrong command or a hint", l.File, s.Line, s.Title)
			}
		}
	}
	if _, ok := Find(ls, "whiteout"); !ok {
		t.Error("no lesson named whiteout")
	}
}

// FuzzLessonParse checks that no input makes Parse panic, and that an
// error always names the file and a line within it.
func FuzzLessonParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, src []byte) {
		l, err := Parse("f.md", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(string(src), "\n")+2 {
				t.Fatalf("error %v names no line of the file", err)
			}
			return
		}
		if l.Title == "" || l.Image == "" || len(l.Steps) == 0 {
			t.Fatalf("a lesson without a title, image or steps: %+v", l)
		}
	})
}
