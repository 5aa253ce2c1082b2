# scripts/lib/initramfs.sh: build small busybox initramfs trees (sourced by bed scripts).
# Images stay uncompressed: L1 and L2 run under TCG, where decompression is the slow part.

# kernel_release KDIR: the module directory name (e.g. 6.12.95+deb12-amd64).
kernel_release() {
	basename "$(ls -d "$1"/lib/modules/*/ | head -n1)"
}

# kernel_image KDIR: path of the bzImage.
kernel_image() {
	ls "$1"/boot/vmlinuz-* | head -n1
}

# kmods_depmod KDIR: generate modules.dep once (the .deb ships without it).
kmods_depmod() {
	local kdir=$1 rel
	rel=$(kernel_release "$kdir")
	[ -f "$kdir/lib/modules/$rel/modules.dep" ] && return 0
	depmod -b "$kdir" "$rel" || { echo "depmod failed for $kdir: run scripts/setup (kmod)" >&2; return 1; }
}

# kmods_resolve KDIR MOD...: module paths (relative to lib/modules/REL), dependencies first.
kmods_resolve() {
	local kdir=$1; shift
	local rel dep
	rel=$(kernel_release "$kdir")
	dep="$kdir/lib/modules/$rel/modules.dep"
	awk -v want="$*" '
	function base(p,  b) { b = p; sub(/.*\//, "", b); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", b); gsub(/-/, "_", b); return b }
	function visit(m,  i, n, d) {
		if (m in seen) return; seen[m] = 1
		if (!(m in path)) { printf "unknown module %s\n", m > "/dev/stderr"; bad = 1; return }
		n = split(deps[m], d, " ")
		for (i = n; i >= 1; i--) visit(base(d[i]))
		print path[m]
	}
	{ sub(/:$/, "", $1); m = base($1); path[m] = $1; deps[m] = ""
	  for (i = 2; i <= NF; i++) deps[m] = deps[m] " " $i }
	END { n = split(want, w, " "); for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); visit(x) }
	      exit bad }' "$dep"
}

# initramfs_base DIR: busybox userland.
initramfs_base() {
	local dir=$1 bb
	bb=$(command -v busybox) || { echo "busybox not found: run scripts/setup" >&2; return 1; }
	file -L "$bb" | grep -q 'statically linked' || { echo "$bb is not static: install busybox-static (scripts/setup)" >&2; return 1; }
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,lib/modules,usr/bin,usr/sbin,var/run}
	cp "$bb" "$dir/bin/busybox"
	for app in $("$bb" --list); do
		[ -e "$dir/bin/$app" ] || ln -s busybox "$dir/bin/$app"
	done
}

# initramfs_add_modules DIR KDIR MOD...: decompress modules into DIR/lib/modules and
# list them, load order, in DIR/etc/modules.order.
initramfs_add_modules() {
	local dir=$1 kdir=$2; shift 2
	local rel p name
	rel=$(kernel_release "$kdir")
	kmods_depmod "$kdir" || return 1
	: > "$dir/etc/modules.order"
	for p in $(kmods_resolve "$kdir" "$@") ; do
		name=$(basename "$p"); name=${name%.xz}
		xz -dc "$kdir/lib/modules/$rel/$p" > "$dir/lib/modules/$name"
		echo "$name" >> "$dir/etc/modules.order"
	done
}

# initramfs_add_binary DIR BIN [DEST]: a program and the shared libraries it links.
initramfs_add_binary() {
	local dir=$1 bin=$2 dest=${3:-/bin/$(basename "$2")} lib
	mkdir -p "$dir$(dirname "$dest")"
	cp "$bin" "$dir$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+'); do
		mkdir -p "$dir$(dirname "$lib")"
		cp -L "$lib" "$dir$lib"
	done
}

# initramfs_pack DIR OUT: an uncompressed newc cpio.
initramfs_pack() {
	chmod 755 "$1"
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) > "$2"
}
