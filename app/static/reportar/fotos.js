/**
 * Photos from the camera, made to fit the server's limits before they are kept on the device.
 *
 * A photo larger than the field target (bytes or pixels) is redrawn on a canvas at most
 * MAX_SIDE pixels on its long side and encoded as JPEG, lowering the quality until it fits the
 * server's byte limit: a phone's 4-12 MB picture becomes a few hundred KB, which a rural link
 * can carry. A small photo is sent as it is.
 */
const MAX_SIDE = 1600;
const TARGET_BYTES = 900 * 1024;
const QUALITIES = [0.82, 0.7, 0.55, 0.4];

async function decode(file) {
  if (window.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      /* fall back to an <img> below */
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

const encode = (canvas, quality) =>
  new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));

/** The photo to keep: {name, blob, resized, original} or {error} for people. */
export async function prepare(file, limits) {
  const maxBytes = Math.min(limits.photo_max_bytes, TARGET_BYTES);
  let image;
  try {
    image = await decode(file);
  } catch {
    return { error: `${file.name}: no es una imagen que el teléfono pueda leer.` };
  }
  const width = image.width;
  const height = image.height;
  const small = file.size <= maxBytes && Math.max(width, height) <= MAX_SIDE;
  if (small && ["image/jpeg", "image/png", "image/webp"].includes(file.type)) {
    return { name: file.name, blob: file, resized: false, original: file.size };
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  for (const quality of QUALITIES) {
    const blob = await encode(canvas, quality);
    if (blob && blob.size <= maxBytes) {
      const name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      return { name, blob, resized: true, original: file.size };
    }
  }
  return { error: `${file.name}: no se pudo reducir bajo ${Math.round(maxBytes / 1024)} KB.` };
}
