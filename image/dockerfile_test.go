package image

import (
	"reflect"
	"testing"
)

func TestBaseImages(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		args       map[string]string
		want       []string
	}{
		{"single", "FROM busybox:stable\nRUN true\n", nil, []string{"busybox:stable"}},
		{"scratch", "FROM scratch\nCOPY a /a\n", nil, nil},
		{"multi-stage refers to a stage", "FROM golang:1.26 AS build\nRUN go build\nfrom scratch\nCOPY --from=build /app /app\nFROM build AS test\n", nil, []string{"golang:1.26"}},
		{"platform flag, lower case", "from --platform=linux/amd64 shop-base:latest as base\n", nil, []string{"shop-base:latest"}},
		{"meta ARG default", "ARG BASE=busybox:stable\nFROM ${BASE}\n", nil, []string{"busybox:stable"}},
		{"build arg overrides ARG", "ARG BASE=busybox:stable\nFROM $BASE\n", map[string]string{"BASE": "p-base"}, []string{"p-base"}},
		{"ARG after FROM is not a meta ARG", "FROM a\nARG TAG=x\nFROM b:${TAG:-y}\n", nil, []string{"a", "b:y"}},
		{"continuation and comments", "# base\nFROM \\\n  busybox:stable \\\n  AS one\n", nil, []string{"busybox:stable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := baseImages([]byte(tt.dockerfile), tt.args); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("baseImages = %q, want %q", got, tt.want)
			}
		})
	}
}
