module github.com/stack-deploy/stack/examples/cli

go 1.22
