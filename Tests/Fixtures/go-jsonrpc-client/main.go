// A client of Parley's backend written with Go's own net/rpc/jsonrpc, to prove the
// backend speaks that wire format. Usage: go run main.go HOST:PORT
package main

import (
	"encoding/json"
	"fmt"
	"net/rpc/jsonrpc"
	"os"
)

type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type PostParams struct {
	Token *string `json:"token"`
	Title string  `json:"title"`
	Body  string  `json:"body"`
}

type ListParams struct {
	Limit  int    `json:"limit"`
	Before *int64 `json:"before"`
}

func main() {
	client, err := jsonrpc.Dial("tcp", os.Args[1])
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	defer client.Close()

	var user map[string]any
	if err := client.Call("Account.Register", Credentials{"gopher", "go password"}, &user); err != nil {
		fmt.Println("register:", err)
		os.Exit(1)
	}
	var login map[string]any
	if err := client.Call("Account.Login", Credentials{"gopher", "go password"}, &login); err != nil {
		fmt.Println("login:", err)
		os.Exit(1)
	}
	token := login["token"].(string)
	var post map[string]any
	if err := client.Call("Board.Post", PostParams{&token, "From Go", "net/rpc/jsonrpc works"}, &post); err != nil {
		fmt.Println("post:", err)
		os.Exit(1)
	}
	var page map[string]any
	if err := client.Call("Board.List", ListParams{Limit: 10}, &page); err != nil {
		fmt.Println("list:", err)
		os.Exit(1)
	}
	// Errors come back as Go errors carrying "code: message".
	wrongErr := client.Call("Account.Login", Credentials{"gopher", "wrong password"}, &login)
	unknownErr := client.Call("Board.Nope", ListParams{Limit: 1}, &page)

	out, _ := json.Marshal(map[string]any{
		"author":  post["author"],
		"titles":  page["posts"],
		"wrong":   fmt.Sprint(wrongErr),
		"unknown": fmt.Sprint(unknownErr),
	})
	fmt.Println(string(out))
}
