package observer_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBrowserShowsKVBuckets runs the kv example as its README says, go run
// ./examples/kv -observe, and looks at its observer in Chromium: the page of
// a tree that arbor generated, whose buckets are named by their template
// (id: $name) and registered in the spec's registry buckets. Each bucket's
// row shows its name and its registered name, buckets/bucket-N. It keeps
// the screenshot that docs/examples.md shows, kv-observer.png.
func TestBrowserShowsKVBuckets(t *testing.T) {
	chromium := findChromium(t)
	if testing.Short() {
		t.Skip("builds the kv example; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserLimit)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "kv")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../examples/kv").CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/kv: %v\n%s", err, out)
	}
	kv := exec.CommandContext(ctx, bin, "-observe", "127.0.0.1:0")
	stdout, err := kv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			kv.Process.Kill()
			kv.Wait()
		}
	}()
	lines := bufio.NewScanner(stdout)
	url := ""
	for url == "" && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "observer: "); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
	}
	if url == "" {
		t.Fatalf("kv -observe printed no observer address: %v", lines.Err())
	}
	go func() { // the rest of its story: the crashes
		for lines.Scan() {
		}
	}()

	b := startBrowser(t, ctx, chromium, 1200, 720)
	b.navigate(ctx, url)
	tree := `document.getElementById('tree').innerText`
	for _, name := range []string{"bucket-0", "bucket-1", "bucket-2"} {
		row := `document.querySelector('.node.child[data-id="` + name + `"]')`
		b.waitFor(ctx, "the bucket "+name+" by its name", row+` && `+row+`.dataset.handle.startsWith('kv/buckets/`+name+`#')`)
		b.waitFor(ctx, "the registered name of "+name, tree+`.includes('buckets/`+name+`')`)
	}
	b.waitFor(ctx, "a crashed bucket in the events", `[...document.querySelectorAll('#log li')].some(li => li.innerText.includes('kv/buckets/bucket-3'))`)
	b.click(ctx, `.node.child[data-id="bucket-0"] > .row`)
	b.waitFor(ctx, "the details of bucket-0", `document.getElementById('details').innerText.includes('kv/buckets/bucket-0#')`)
	shot(t, b, ctx, "kv-observer.png")
	if problems := b.pageProblems(); len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}

	if err := kv.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := kv.Wait(); err != nil {
		t.Errorf("kv -observe after SIGINT: %v", err)
	}
}
