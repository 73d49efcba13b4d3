package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-k8s", "../../deploy/k8s", "-dockerfile", "../../deploy/Dockerfile"}, &out, &errOut); code != 0 {
		t.Fatalf("run = %d, stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "1 Deployment, 1 Service") {
		t.Errorf("stdout = %q", out.String())
	}

	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "x.yaml"), []byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"-k8s", broken, "-dockerfile", "../../deploy/Dockerfile"}, &out, &errOut); code != 1 {
		t.Fatalf("run on a broken folder = %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), `unknown field "spec.selectr"`) {
		t.Errorf("stderr = %q", errOut.String())
	}
	if code := run([]string{"-nope"}, &out, &errOut); code != 2 {
		t.Errorf("run with a bad flag = %d, want 2", code)
	}
}
