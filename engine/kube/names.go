package kube

import (
	"fmt"
	"regexp"
	"strings"
)

// Name syntaxes of Kubernetes (k8s.io/apimachinery/pkg/util/validation):
// a Service's name is a DNS-1035 label, a namespace's and a pod volume's a
// DNS-1123 label, most other objects' a DNS-1123 subdomain.
var (
	dns1035Label    = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	dns1123Label    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123Sub      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	configKey       = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	notLabelChar    = regexp.MustCompile(`[^-a-z0-9]+`)
	notNameChar     = regexp.MustCompile(`[^-.a-z0-9]+`)
	qualifiedName   = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	maxLabel        = 63
	maxSubdomain    = 253
	publishedSuffix = "-published"
)

// isServiceName reports whether name can name a Service (and so resolve
// through cluster DNS as the compose service does on its network).
func isServiceName(name string) bool {
	return len(name) <= maxLabel && dns1035Label.MatchString(name)
}

// isLabel reports whether name is a DNS-1123 label.
func isLabel(name string) bool {
	return len(name) <= maxLabel && dns1123Label.MatchString(name)
}

// objectName turns a compose key (a volume's, a secret's) into the name of
// its object: as it is when it is a DNS-1123 subdomain, else lower-cased
// with every run of other characters turned into "-". ok is false when
// nothing usable is left.
func objectName(key string) (name string, ok bool) {
	if len(key) <= maxSubdomain && dns1123Sub.MatchString(key) {
		return key, true
	}
	name = strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(key), "-"), "-.")
	return name, len(name) <= maxSubdomain && dns1123Sub.MatchString(name)
}

// labelName is objectName for what must be a DNS-1123 label (a claim
// template's name, a pod volume's): dots become "-" too.
func labelName(key string) (name string, ok bool) {
	name = strings.Trim(notLabelChar.ReplaceAllString(strings.ToLower(key), "-"), "-")
	return name, name != "" && len(name) <= maxLabel
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
	prefix, name, found := strings.Cut(key, "/")
	if !found {
		prefix, name = "", key
	}
	if found && (prefix == "" || len(prefix) > maxSubdomain || !dns1123Sub.MatchString(prefix)) {
		return false
	}
	return len(name) <= maxLabel && qualifiedName.MatchString(name)
}
