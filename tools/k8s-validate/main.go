// Command k8s-validate checks rendered Kubernetes manifests without a cluster. It reads multi-document YAML on
// stdin (`kubectl kustomize deploy/k8s | k8s-validate`), decodes each object strictly into the Kubernetes API's
// own Go type for its apiVersion and kind, checks the invariants deploy/k8s promises (checks.go), and prints one
// line per problem. Exit status: 0 when there is none, 1 when there are problems, 2 when stdin cannot be read.
//
// Build: `go build -o ~/.cache/ai-assistant-core/bin/k8s-validate .` in this folder (test/k8s.test.ts does).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	yamlstream "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// decoders gives the typed object each known "apiVersion kind" decodes into. Any other kind is refused: a typo
// in either, or a kind nobody taught this tool to check, fails instead of passing unchecked. Secret is known only
// so that one carrying data is named as such.
var decoders = map[string]func() any{
	"apps/v1 Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1 Service":                             func() any { return &corev1.Service{} },
	"v1 ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1 Secret":                              func() any { return &corev1.Secret{} },
	"autoscaling/v2 HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1 PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1 NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

func main() {
	problems, objects, err := validate(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-validate: reading stdin:", err)
		os.Exit(2)
	}
	for _, problem := range problems {
		fmt.Println(problem)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("k8s-validate: %d objects, no problems\n", objects)
}

// validate returns the problems of every document in the stream and how many objects it held. No object at all
// is a problem too: an empty render must not pass.
func validate(in io.Reader) ([]string, int, error) {
	var problems []string
	objects := 0
	reader := yamlstream.NewYAMLReader(bufio.NewReader(in))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			if objects == 0 {
				problems = append(problems, "no objects on stdin")
			}
			return problems, objects, nil
		}
		if err != nil {
			return nil, objects, err
		}
		if isEmpty(doc) {
			continue
		}
		objects++
		problems = append(problems, validateObject(objects, doc)...)
	}
}

// validateObject decodes one document strictly (unknown or duplicate fields and wrong types are errors) and checks it.
func validateObject(index int, doc []byte) []string {
	var head metav1.PartialObjectMetadata
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return []string{fmt.Sprintf("document %d: %v", index, err)}
	}
	name := head.Kind + "/" + head.Name
	newObject, known := decoders[head.APIVersion+" "+head.Kind]
	if !known {
		return []string{fmt.Sprintf("%s: unknown apiVersion/kind %q %q: this tool knows only %s", name, head.APIVersion, head.Kind, knownKinds())}
	}
	object := newObject()
	if err := yaml.UnmarshalStrict(doc, object); err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var problems []string
	for _, problem := range check(object) {
		problems = append(problems, name+": "+problem)
	}
	return problems
}

// isEmpty tells a document of only comments or whitespace (as between two `---`), which is not an object.
func isEmpty(doc []byte) bool {
	var value any
	return yaml.Unmarshal(doc, &value) == nil && value == nil
}

func knownKinds() string {
	kinds := make([]string, 0, len(decoders))
	for kind := range decoders {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	return strings.Join(kinds, ", ")
}
