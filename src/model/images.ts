// Image references as the lab accepts them (lab:images, lab:kv.image, lab:workloads[].image), and what a
// dind image's tag says about the Docker inside it.

// Docker's reference grammar (github.com/distribution/reference), as far as a config needs it:
// [registry[:port]/]path[/path...][:tag][@digest], the path in lowercase.
const DOMAIN_PART = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?)`;
const PATH_PART = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REF_RE = new RegExp(`^(?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*(?::${TAG})?(?:@${DIGEST})?$`);

/** An image reference Docker accepts: `busybox:1.36.1`, `registry.example.com:5000/mirror/docker:20.10.24-dind`. */
export function isImageRef(value: string): boolean {
  return value.length <= 255 && IMAGE_REF_RE.test(value);
}

/** The tag of a reference ("" when it has none): the part after the last ':' that follows the last '/'. */
function tagOf(image: string): string {
  const name = image.replace(/@.*$/, "");
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(colon + 1) : "";
}

/** Is this image name one the lab can build locally (a busybox repository, any tag)? netns hosts have no registry. */
export function isBusyboxImage(image: string): boolean {
  const repo = image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
  return repo === "busybox" || repo.endsWith("/busybox");
}

/**
 * The Docker version a dind image's tag names, as major.minor: `docker:20.10.24-dind` -> "20.10",
 * `mirror.local/dind:26.1.5` -> "26.1"; undefined when the tag names none (`latest`, `dind`, a digest).
 */
export function dockerVersionOfImage(image: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+_.].*)?$/.exec(tagOf(image));
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}
