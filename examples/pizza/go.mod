module github.com/stack-deploy/stack/examples/pizza

go 1.22
