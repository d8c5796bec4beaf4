package kube

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Names are checked with apimachinery's own validation: a Service's name
// is a DNS-1035 label, a namespace's and a pod volume's a DNS-1123 label,
// most other objects' a DNS-1123 subdomain.
var (
	configKey    = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	notLabelChar = regexp.MustCompile(`[^-a-z0-9]+`)
	notNameChar  = regexp.MustCompile(`[^-.a-z0-9]+`)
)

const (
	maxLabel        = validation.DNS1123LabelMaxLength
	publishedSuffix = "-published"
	// maxStatefulSetName leaves room in a 63-character label for the
	// revision hash a StatefulSet's pods are labelled with.
	maxStatefulSetName = 52
)

// isServiceName reports whether name can name a Service (and so resolve
// through cluster DNS as the compose service does on its network).
func isServiceName(name string) bool {
	return len(validation.IsDNS1035Label(name)) == 0
}

// isLabel reports whether name is a DNS-1123 label.
func isLabel(name string) bool {
	return len(validation.IsDNS1123Label(name)) == 0
}

// objectName turns a compose key (a volume's, a secret's) into the name of
// its object: as it is when it is a DNS-1123 subdomain, else lower-cased
// with every run of other characters turned into "-". ok is false when
// nothing usable is left.
func objectName(key string) (name string, ok bool) {
	if len(validation.IsDNS1123Subdomain(key)) == 0 {
		return key, true
	}
	name = strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(key), "-"), "-.")
	return name, len(validation.IsDNS1123Subdomain(name)) == 0
}

// labelName is objectName for what must be a DNS-1123 label (a claim
// template's name, a pod volume's): dots become "-" too.
func labelName(key string) (name string, ok bool) {
	name = strings.Trim(notLabelChar.ReplaceAllString(strings.ToLower(key), "-"), "-")
	return name, isLabel(name)
}

// suggestServiceName is the DNS-1035 label closest to a compose service's
// name, for the error's fix.
func suggestServiceName(name string) string {
	s := strings.Trim(notLabelChar.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "svc-" + s
	}
	if len(s) > maxLabel {
		s = strings.TrimRight(s[:maxLabel], "-")
	}
	return s
}

// portName names a Service port: "<protocol>-<port>", lower-case, always
// within the 15 characters an IANA service name may have.
func portName(protocol string, port int32) string {
	return fmt.Sprintf("%s-%d", strings.ToLower(protocol), port)
}

// isAnnotationKey reports whether key is a qualified name (an optional
// DNS-1123 subdomain prefix and "/", then a name of at most 63 characters),
// as annotation and label keys must be.
func isAnnotationKey(key string) bool {
	return len(validation.IsQualifiedName(key)) == 0
}
