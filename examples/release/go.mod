module github.com/stack-deploy/stack/examples/release

go 1.22
