// The kube room's door: the one way Kindtray reaches Kubernetes. Parents get
// the kubeconfig (file list, loading), how each context authenticates and
// which child serves it, and how to start that child. The client itself runs
// only in the child (kube-child.ts); nothing here loads it.
export { kubeconfigPaths, kubeconfigSource, type KubeconfigSource } from './kubeconfig-files.ts';
export {
  loadKubeconfig,
  loadKubeconfigCached,
  loadKubeconfigFiles,
  type KubeClusterSpec,
  type KubeContextSpec,
  type KubeconfigEntry,
  type KubeconfigFile,
  type KubeconfigFileState,
  type KubeconfigModel,
  type KubeExecSpec,
  type KubeUserSpec,
} from './kubeconfig-model.ts';
export { canBlockProcess, classifyUser, contextCredentials, kubeChildKey, SHARED_KUBE_CHILD, type ContextCredentials, type CredentialKind } from './credentials.ts';
export { startKubeChild, KUBE_CHILD_NAME, KUBE_CHILD_START_DEADLINE_MS, type KubeChild, type StartKubeChildOptions } from './kube-child-start.ts';
export { logSlice } from './log-slice.ts';
export { Http1Reader, type Http1Answer } from './http1.ts';
