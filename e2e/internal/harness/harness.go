// Package harness holds what the end-to-end programs (e2e/cluster,
// e2e/trace, e2e/docs) each need around a started server: free loopback
// ports, waiting for a URL to answer 200, and the admin token a new
// database's first start prints.
package harness

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// WaitHTTP polls url every 100 ms until it answers 200, for at most limit.
func WaitHTTP(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", url, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1 (free when
// asked: listeners are opened together, then closed).
func FreePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// BootstrapToken reads, from a server's captured standard output, the
// admin token the first start of a new database prints on a line of its
// own.
func BootstrapToken(outputPath string) (string, error) {
	b, err := os.ReadFile(outputPath)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.TrimSpace(line); strings.HasPrefix(f, "usv_") {
			return f, nil
		}
	}
	return "", fmt.Errorf("no bootstrap token printed:\n%s", b)
}
