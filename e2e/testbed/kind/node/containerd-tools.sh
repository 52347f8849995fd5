#!/bin/sh
# The testbed's stand-ins for containerd's CLIs inside a node container,
# bind-mounted as /usr/local/bin/ctr, /usr/local/bin/crictl and
# /usr/local/bin/containerd (this script looks at the name it was run as).
# They answer the commands kind and users run on a KinD node to import and list
# images (kind's nodeutils: `ctr --namespace=k8s.io images import --all-platforms
# --digests --snapshotter=S -`, `crictl inspecti IMAGE`, `ctr images tag --force`,
# `containerd config dump`; users: `crictl images [-o json|-q]`, `ctr -n k8s.io
# images ls`). Images are references in a file in the node's writable layer,
# like containerd's store they survive a node restart and go with the node.
# busybox sh/awk/tar only: the node image is busybox.

STORE_DIR=/var/lib/containerd/io.containerd.testbed
STORE=$STORE_DIR/images.tsv   # REF<TAB>ID<TAB>SIZE, one line per reference
mkdir -p "$STORE_DIR" 2>/dev/null
[ -f "$STORE" ] || : >"$STORE"
TAB=$(printf '\t')

die() { echo "$*" >&2; exit 1; }

# Docker's reference normalisation, as kind's sanitizeImage and crictl do:
# foo -> docker.io/library/foo:latest, me/foo:1 -> docker.io/me/foo:1.
normalize() {
  ref=$1
  case "$ref" in */*) ;; *) ref="library/$ref" ;; esac
  first=${ref%%/*}
  case "$first" in *.*|*:*|localhost) ;; *) ref="docker.io/$ref" ;; esac
  last=${ref##*/}
  case "$ref" in *@*) ;; *) case "$last" in *:*) ;; *) ref="$ref:latest" ;; esac ;; esac
  echo "$ref"
}

# The store's lines for an image given by reference, full ID or ID prefix.
lookup() {
  want=$1
  norm=$(normalize "$1")
  awk -F "$TAB" -v want="$want" -v norm="$norm" '
    { id = $2; short = substr(id, 8) }
    $1 == want || $1 == norm || id == want || id == "sha256:" want || (length(want) >= 12 && index(short, want) == 1) { print }
  ' "$STORE"
}

# Adds or replaces REF -> ID.
put() {
  awk -F "$TAB" -v ref="$1" '$1 != ref' "$STORE" >"$STORE.tmp"
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$STORE.tmp"
  mv "$STORE.tmp" "$STORE"
}

json_list() { # a JSON array of the arguments (plain references need no escaping)
  out='' sep=''
  for x in "$@"; do out="$out$sep\"$x\""; sep=','; done
  echo "[$out]"
}

# One image as CRI's Image message in JSON (crictl's field names); $1 = ID.
image_json() {
  id=$1
  refs=$(awk -F "$TAB" -v id="$id" '$2 == id { print $1 }' "$STORE")
  size=$(awk -F "$TAB" -v id="$id" '$2 == id { print $3; exit }' "$STORE")
  tags='' digests=''
  for r in $refs; do
    case "$r" in *@*) digests="$digests $r" ;; *) tags="$tags $r" ;; esac
  done
  # shellcheck disable=SC2086
  printf '{"id":"%s","repoTags":%s,"repoDigests":%s,"size":"%s","uid":null,"username":"","spec":null,"pinned":false}' \
    "$id" "$(json_list $tags)" "$(json_list $digests)" "${size:-0}"
}

# ctr images import: a `docker save` archive (manifest.json lists each image's config and tags).
ctr_import() {
  tmp=$(mktemp /tmp/ctr-import.XXXXXX) || die "ctr: cannot make a temporary file"
  cat >"$tmp"
  size=$(wc -c <"$tmp" | tr -d ' ')
  manifest=$(tar -xOf "$tmp" manifest.json 2>/dev/null)
  rm -f "$tmp"
  [ -n "$manifest" ] || die "ctr: unrecognized image format"
  echo "$manifest" | sed 's/},{/}\n{/g' | while IFS= read -r entry; do
    hex=$(echo "$entry" | grep -o '"Config":"[^"]*"' | grep -o '[0-9a-f]\{64\}' | head -n 1)
    [ -n "$hex" ] || continue
    tags=$(echo "$entry" | grep -o '"RepoTags":\[[^]]*\]' | sed 's/"RepoTags":\[//; s/\]$//; s/"//g; s/,/ /g')
    for t in $tags; do
      ref=$(normalize "$t")
      # Another namespace than the CRI's keeps its images apart: crictl and Pods never see them.
      [ "$ns" = k8s.io ] && put "$ref" "sha256:$hex" "$size"
      printf 'unpacking %s (sha256:%s)...done\n' "$ref" "$hex"
    done
  done
}

ctr_main() {
  ns=${CONTAINERD_NAMESPACE:-default}
  while [ $# -gt 0 ]; do
    case "$1" in
      -n|--namespace) ns=$2; shift 2 ;;
      -n=*|--namespace=*) ns=${1#*=}; shift ;;
      -a|--address|--timeout|--connect-timeout) shift 2 ;;
      --debug|--*=*) shift ;;
      *) break ;;
    esac
  done
  group=$1; cmd=$2
  [ $# -ge 2 ] && shift 2
  case "$group" in images|image|i) ;; *) die "ctr: the testbed's node answers only \`ctr images\` (got: ctr $group $cmd)" ;; esac
  # Only the k8s.io namespace (the CRI's) holds images on a KinD node.
  case "$cmd" in
    import) ctr_import ;;
    ls|list)
      quiet=0
      for a in "$@"; do [ "$a" = -q ] || [ "$a" = --quiet ] && quiet=1; done
      [ "$ns" = k8s.io ] || { [ $quiet = 1 ] || echo "REF TYPE DIGEST SIZE PLATFORMS LABELS"; exit 0; }
      if [ $quiet = 1 ]; then cut -f 1 "$STORE" | sort; exit 0; fi
      printf '%-60s %-54s %-71s %-10s %-12s %s\n' REF TYPE DIGEST SIZE PLATFORMS LABELS
      sort "$STORE" | while IFS="$TAB" read -r ref id size; do
        printf '%-60s %-54s %-71s %-10s %-12s %s\n' "$ref" application/vnd.docker.distribution.manifest.v2+json "$id" "$size" linux/amd64 io.cri-containerd.image=managed
      done ;;
    tag)
      for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$src" ]; then src=$a; else dst=$a; fi ;; esac; done
      line=$(lookup "$src" | head -n 1)
      [ -n "$line" ] || die "ctr: image \"$src\": not found"
      put "$(normalize "$dst")" "$(echo "$line" | cut -f 2)" "$(echo "$line" | cut -f 3)"
      echo "$dst" ;;
    rm|remove|delete|del)
      for ref in "$@"; do
        awk -F "$TAB" -v ref="$ref" '$1 != ref' "$STORE" >"$STORE.tmp" && mv "$STORE.tmp" "$STORE"
        echo "$ref"
      done ;;
    *) die "ctr: the testbed's node does not implement \`ctr images $cmd\`" ;;
  esac
}

crictl_main() {
  while [ $# -gt 0 ]; do
    case "$1" in
      -r|--runtime-endpoint|-i|--image-endpoint|-t|--timeout|-c|--config) shift 2 ;;
      --*=*|-D|--debug) shift ;;
      *) break ;;
    esac
  done
  cmd=$1; [ $# -gt 0 ] && shift
  case "$cmd" in
    images|image|img)
      out=table filter=''
      while [ $# -gt 0 ]; do
        case "$1" in
          -o|--output) out=$2; shift 2 ;;
          -o=*|--output=*) out=${1#*=}; shift ;;
          -q|--quiet) out=quiet; shift ;;
          -*) shift ;;
          *) filter=$1; shift ;;
        esac
      done
      ids=$(if [ -n "$filter" ]; then lookup "$filter"; else cat "$STORE"; fi | cut -f 2 | sort -u)
      case "$out" in
        json)
          printf '{\n  "images": ['
          sep=''
          for id in $ids; do printf '%s\n    %s' "$sep" "$(image_json "$id")"; sep=','; done
          printf '\n  ]\n}\n' ;;
        quiet) for id in $ids; do echo "$id"; done ;;
        table)
          printf '%-45s %-20s %-15s %s\n' IMAGE TAG 'IMAGE ID' SIZE
          for id in $ids; do
            awk -F "$TAB" -v id="$id" '$2 == id && $1 !~ /@/ { print $1 "\t" $3 }' "$STORE" | while IFS="$TAB" read -r ref size; do
              printf '%-45s %-20s %-15s %s\n' "${ref%:*}" "${ref##*:}" "$(echo "$id" | cut -c 8-20)" "$size"
            done
          done ;;
        *) die "crictl: unsupported output format \"$out\"" ;;
      esac ;;
    inspecti)
      [ $# -gt 0 ] || die "crictl: ID cannot be empty"
      for a in "$@"; do
        case "$a" in -*) continue ;; esac
        id=$(lookup "$a" | head -n 1 | cut -f 2)
        [ -n "$id" ] || die "FATA[0000] no such image \"$a\" present"
        printf '{\n  "status": %s,\n  "info": {}\n}\n' "$(image_json "$id")"
      done ;;
    rmi)
      for a in "$@"; do
        case "$a" in -*) continue ;; esac
        id=$(lookup "$a" | head -n 1 | cut -f 2)
        [ -n "$id" ] || die "FATA[0000] no such image $a"
        awk -F "$TAB" -v id="$id" '$2 != id' "$STORE" >"$STORE.tmp" && mv "$STORE.tmp" "$STORE"
        echo "Deleted: $(normalize "$a")"
      done ;;
    *) die "crictl: the testbed's node implements only images, inspecti and rmi (got: crictl $cmd)" ;;
  esac
}

containerd_main() {
  # kind reads the snapshotter from `containerd config dump` (config version 3: containerd 2.x, as kindest/node v1.32).
  if [ "$1 $2" = "config dump" ]; then
    printf 'version = 3\n\n[plugins]\n  [plugins."io.containerd.cri.v1.images"]\n    snapshotter = "overlayfs"\n'
    exit 0
  fi
  die "containerd: the testbed's node answers only \`containerd config dump\`"
}

case "${0##*/}" in
  ctr) ctr_main "$@" ;;
  crictl) crictl_main "$@" ;;
  containerd) containerd_main "$@" ;;
  *) die "containerd-tools.sh: run me as ctr, crictl or containerd" ;;
esac
