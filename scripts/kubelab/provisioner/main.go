// Command provisioner is the kube lab's storage (scripts/kube-lab.sh): the
// provisioner of its default StorageClass. Core Kubernetes provisions no
// volume itself; this controller gives every claim of that class a
// hostPath PersistentVolume, a directory of its own under -dir, pre-bound
// to the claim (the controller-manager then binds the two), and removes
// the directory and the volume once the claim is gone (reclaim policy
// Delete). The class binds WaitForFirstConsumer: the controller-manager
// hands a claim over (the volume.kubernetes.io/storage-provisioner
// annotation) once a pod using it is scheduled. The lab has one node, so
// a directory on it is storage every pod can reach.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	annProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annProvisionerBeta = "volume.beta.kubernetes.io/storage-provisioner"
	annProvisionedBy   = "pv.kubernetes.io/provisioned-by"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster (required)")
	dir := flag.String("dir", "", "directory the volumes are made in (required)")
	name := flag.String("name", "", "provisioner name, as the StorageClass says it (required)")
	node := flag.String("node", "", "node the directories are on (required)")
	flag.Parse()
	if *kubeconfig == "" || *dir == "" || *name == "" || *node == "" {
		fmt.Fprintln(os.Stderr, "usage: provisioner -kubeconfig FILE -dir DIR -name NAME -node NODE")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	p := &provisioner{cs: kubernetes.NewForConfigOrDie(cfg), dir: *dir, name: *name, node: *node, kick: make(chan struct{}, 1)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p.run(ctx)
}

type provisioner struct {
	cs              kubernetes.Interface
	dir, name, node string
	claims, volumes cache.Store
	kick            chan struct{}
}

// run reconciles every claim and volume on each change, and every 10 s
// for those an error left behind.
func (p *provisioner) run(ctx context.Context) {
	f := informers.NewSharedInformerFactory(p.cs, 10*time.Second)
	kick := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { p.poke() },
		UpdateFunc: func(any, any) { p.poke() },
		DeleteFunc: func(any) { p.poke() },
	}
	ci := f.Core().V1().PersistentVolumeClaims().Informer()
	vi := f.Core().V1().PersistentVolumes().Informer()
	_, _ = ci.AddEventHandler(kick)
	_, _ = vi.AddEventHandler(kick)
	p.claims, p.volumes = ci.GetStore(), vi.GetStore()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	log.Printf("provisioner %s: volumes under %s on node %s", p.name, p.dir, p.node)
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			p.reconcile(ctx)
		}
	}
}

func (p *provisioner) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *provisioner) reconcile(ctx context.Context) {
	have := map[string]bool{}
	for _, o := range p.volumes.List() {
		pv := o.(*corev1.PersistentVolume)
		have[pv.Name] = true
		if pv.Annotations[annProvisionedBy] == p.name && pv.Status.Phase == corev1.VolumeReleased &&
			pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete && pv.DeletionTimestamp == nil {
			p.remove(ctx, pv)
		}
	}
	for _, o := range p.claims.List() {
		pvc := o.(*corev1.PersistentVolumeClaim)
		if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || have["pvc-"+string(pvc.UID)] {
			continue
		}
		if pvc.Annotations[annProvisioner] != p.name && pvc.Annotations[annProvisionerBeta] != p.name {
			continue
		}
		if err := p.provision(ctx, pvc); err != nil {
			log.Printf("provisioning %s/%s: %v", pvc.Namespace, pvc.Name, err)
		}
	}
}

func (p *provisioner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(pvc.UID)
	path := filepath.Join(p.dir, pvc.Namespace+"_"+pvc.Name+"_"+name)
	if err := os.MkdirAll(path, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o777); err != nil { // any pod user may write
		return err
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if pvc.Spec.StorageClassName != nil {
		sc, err := p.cs.StorageV1().StorageClasses().Get(ctx, *pvc.Spec.StorageClassName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if sc.ReclaimPolicy != nil {
			reclaim = *sc.ReclaimPolicy
		}
	}
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	fs := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: p.name}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              ptrValue(pvc.Spec.StorageClassName),
			VolumeMode:                    &fs,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &dirOrCreate}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{p.node}}},
			}}}},
		},
	}
	if _, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	log.Printf("provisioned %s for %s/%s at %s", name, pvc.Namespace, pvc.Name, path)
	return nil
}

// remove deletes a released volume's directory, then the volume.
func (p *provisioner) remove(ctx context.Context, pv *corev1.PersistentVolume) {
	if pv.Spec.HostPath != nil {
		path := filepath.Clean(pv.Spec.HostPath.Path)
		if !strings.HasPrefix(path, filepath.Clean(p.dir)+string(filepath.Separator)) {
			log.Printf("not removing %s: %s is not under %s", pv.Name, path, p.dir)
			return
		}
		if err := os.RemoveAll(path); err != nil {
			log.Printf("removing %s: %v", path, err)
			return
		}
	}
	if err := p.cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		log.Printf("deleting %s: %v", pv.Name, err)
		return
	}
	log.Printf("deleted %s", pv.Name)
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
