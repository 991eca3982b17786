// A Confluent-compatible schema registry for local runs and tests: franz-go's srfake, an in-memory
// server of the Confluent Schema Registry REST API, on the address given by -addr (127.0.0.1:8081 by
// default). With -basic-auth user:password it answers only requests with that HTTP basic auth.
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	basicAuth := flag.String("basic-auth", "", "user:password every request must carry (HTTP basic auth)")
	flag.Parse()
	var options []srfake.Option
	if *basicAuth != "" {
		options = append(options, srfake.WithAuth("Basic "+base64.StdEncoding.EncodeToString([]byte(*basicAuth))))
	}
	registry := srfake.New(options...)
	defer registry.Close()
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("schema registry listening on %s\n", listener.Addr())
	if err := http.Serve(listener, registry.Handler()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
