package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// The seed's autoscaling requirement, for every HorizontalPodAutoscaler.
const (
	wantMinReplicas   = 2
	wantMaxReplicas   = 10
	wantCPUPercentage = 70
)

// check returns the invariant violations of one decoded object; kinds without invariants have none.
func check(object any) []string {
	switch o := object.(type) {
	case *appsv1.Deployment:
		return checkPod(&o.Spec.Template.Spec)
	case *corev1.Secret:
		if len(o.Data) > 0 || len(o.StringData) > 0 {
			return []string{"carries data: create the Secret in the cluster (deploy/k8s/README.md), never in the manifests"}
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		return checkAutoscaler(&o.Spec)
	}
	return nil
}

// checkPod wants every container bounded, non-root on a read-only root filesystem, and probed.
func checkPod(pod *corev1.PodSpec) []string {
	var problems []string
	for _, c := range pod.Containers {
		problem := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("container %s: ", c.Name)+fmt.Sprintf(format, args...))
		}
		for _, resource := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[resource]; !ok {
				problem("no resources.requests.%s", resource)
			}
			if _, ok := c.Resources.Limits[resource]; !ok {
				problem("no resources.limits.%s", resource)
			}
		}
		if !runsAsNonRoot(pod.SecurityContext, c.SecurityContext) {
			problem("runAsNonRoot is not true")
		}
		if c.SecurityContext == nil || !isTrue(c.SecurityContext.ReadOnlyRootFilesystem) {
			problem("securityContext.readOnlyRootFilesystem is not true")
		}
		if c.LivenessProbe == nil {
			problem("no livenessProbe")
		}
		if c.ReadinessProbe == nil {
			problem("no readinessProbe")
		}
	}
	return problems
}

// runsAsNonRoot follows Kubernetes: the container's own setting, else the pod's.
func runsAsNonRoot(pod *corev1.PodSecurityContext, container *corev1.SecurityContext) bool {
	if container != nil && container.RunAsNonRoot != nil {
		return *container.RunAsNonRoot
	}
	return pod != nil && isTrue(pod.RunAsNonRoot)
}

func checkAutoscaler(spec *autoscalingv2.HorizontalPodAutoscalerSpec) []string {
	var problems []string
	minReplicas := int32(1) // the API's default when unset
	if spec.MinReplicas != nil {
		minReplicas = *spec.MinReplicas
	}
	if minReplicas != wantMinReplicas {
		problems = append(problems, fmt.Sprintf("minReplicas is %d, want %d", minReplicas, wantMinReplicas))
	}
	if spec.MaxReplicas != wantMaxReplicas {
		problems = append(problems, fmt.Sprintf("maxReplicas is %d, want %d", spec.MaxReplicas, wantMaxReplicas))
	}
	if !targetsCPU(spec.Metrics, wantCPUPercentage) {
		problems = append(problems, fmt.Sprintf("no cpu Resource metric with averageUtilization %d", wantCPUPercentage))
	}
	return problems
}

func targetsCPU(metrics []autoscalingv2.MetricSpec, percentage int32) bool {
	for _, m := range metrics {
		if m.Type != autoscalingv2.ResourceMetricSourceType || m.Resource == nil || m.Resource.Name != corev1.ResourceCPU {
			continue
		}
		target := m.Resource.Target
		if target.Type == autoscalingv2.UtilizationMetricType && target.AverageUtilization != nil && *target.AverageUtilization == percentage {
			return true
		}
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }
