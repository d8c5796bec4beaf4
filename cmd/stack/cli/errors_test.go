package cli

import (
	"errors"
	"testing"

	"github.com/hashicorp/go-multierror"
)

func TestMessage(t *testing.T) {
	one := multierror.Append(nil, errors.New(`service "web": build failed`))
	two := multierror.Append(nil, errors.New("a"), errors.New("b\nmore"))
	custom := &multierror.Error{Errors: []error{errors.New("x")}, ErrorFormat: func([]error) string { return "custom" }}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "plain"},
		{one, `service "web": build failed`},
		{two, "2 errors:\n  * a\n  * b\n    more"},
		{custom, "custom"},
	} {
		if got := message(tt.err); got != tt.want {
			t.Errorf("message(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
