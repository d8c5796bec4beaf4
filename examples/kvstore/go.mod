module github.com/stack-deploy/stack/examples/kvstore

go 1.22
