"""Offscreen rendering of an avatar pose to an RGB array with moderngl.

Morph targets are blended per frame in numpy (faster than in the vertex shader on llvmpipe) and
uploaded with one write per geometry. The optional supersampling renders at `aa` times the size into
a texture and resolves on the GPU, so only the final image is read back, as RGBA: the fast
read-back path on Mesa, where RGB costs a conversion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import moderngl
import numpy as np
from PIL import Image, ImageOps

from ..avatar import Avatar, Geometry, Material, Mesh, Primitive, Texture
from ..avatar.scene import BLEND, MASK, vertex_tangents
from ..errors import UserError
from .camera import Camera, frame_face, head_frame, turns_on_joints
from .context import create_context

# Lights fixed to the camera (view space, pointing towards the light): a warm key high on the
# subject's right, a cool fill low on the left, a rim from behind and above for separation.
LIGHT_DIRECTIONS = np.array([[-0.55, 0.55, 0.63], [0.65, -0.05, 0.76], [0.25, 0.75, -0.61]], dtype=np.float32)
LIGHT_COLOURS = np.array([[1.30, 1.22, 1.12], [0.38, 0.42, 0.50], [0.85, 0.85, 0.90]], dtype=np.float32)
SKY, GROUND = (0.30, 0.31, 0.34), (0.14, 0.12, 0.11)
DEFAULT_BACKGROUND = (0.46, 0.50, 0.55)  # sRGB
DEFAULT_MATERIAL = Material("default", np.array([0.6, 0.6, 0.6, 1.0], np.float32), None, 0.0, 0.6, False)
MAX_AA = 4.0
MIN_SIDE, MAX_SIDE = 16, 8192  # pixels of a rendered image, a side
GLOSSY = 0.35  # materials smoother than this (eyes, teeth) get their highlight per pixel
SRGB8_ALPHA8 = 0x8C43


@dataclass(eq=False)
class _Buffers:
    """GPU copies of one mesh instance's geometry; positions and normals rewritten when weights change."""

    geometry: Geometry
    positions: moderngl.Buffer
    normals: moderngl.Buffer
    state: tuple | None = None  # the morph weights and joint moves last uploaded


@dataclass(eq=False)
class _Draw:
    vao: moderngl.VertexArray
    program: moderngl.Program
    material: Material
    count: int
    centre: np.ndarray  # the primitive's rest centre in its mesh's space: blended draws are sorted by its depth


def _skin_moves(geometry: Geometry, positions: np.ndarray, normals: np.ndarray,
                moves: Mapping[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Linear blend skinning of the rest-posed geometry by the moved joints (the others stay put): each
    vertex moves by the weighted sum of its joints' moves from rest, all joints in one matrix product."""
    present = tuple(j for j in sorted(moves) if geometry.joint_weight(j) is not None)
    if not present:
        return positions, normals
    touched, weights = geometry.skinned_by(present)  # (n,) vertices, (n, J) their weights
    turns = np.stack([moves[j][:3, :3] - np.eye(3) for j in present]).astype(np.float32)  # (J, 3, 3)
    shifts = np.stack([moves[j][:3, 3] for j in present]).astype(np.float32)  # (J, 3)
    stacked = turns.transpose(0, 2, 1).reshape(-1, 3)  # (3J, 3): row block j is turn_j transposed
    positions, normals = positions.copy(), normals.copy()
    for array, shift in ((positions, shifts), (normals, None)):
        rest = array[touched]
        spread = (weights[:, :, None] * rest[:, None, :]).reshape(len(touched), -1)  # (n, 3J)
        array[touched] = rest + spread @ stacked + (0 if shift is None else weights @ shift)
    return positions, normals


def _shader(name: str, defines: tuple[str, ...] = (), shared: str | None = None) -> str:
    """Shader source with `#define`s, then the `shared` chunk, inserted after its #version line."""
    folder = resources.files(__package__).joinpath("shaders")
    version, _, body = folder.joinpath(name).read_text().partition("\n")
    chunk = [folder.joinpath(shared).read_text()] if shared else []
    return "\n".join([version] + [f"#define {d}" for d in defines] + chunk + [body])


def _material_textures(material: Material) -> tuple[tuple[str, Texture | None, bool], ...]:
    """A material's textures as the shaders name them, in texture-unit order, and whether each holds colour
    (sRGB) or data."""
    return (("base", material.texture, True), ("emissive", material.emissive_texture, True),
            ("normal", material.normal_texture, False), ("occlusion", material.occlusion_texture, False),
            ("metallic_roughness", material.metallic_roughness_texture, False))


def _variant(material: Material) -> tuple[str, ...]:
    """The shader defines a material needs."""
    lit = not material.unlit
    return tuple(name for name, wanted in (
        ("TEXTURE", material.texture is not None), ("EMISSIVE_TEXTURE", material.emissive_texture is not None),
        ("PIXEL_SPECULAR", material.roughness < GLOSSY and lit and material.toon is None), ("UNLIT", material.unlit),
        ("MTOON", material.toon is not None and lit),
        ("NORMAL_MAP", material.normal_texture is not None and lit),
        ("OCCLUSION_TEXTURE", material.occlusion_texture is not None and lit),
        ("METALLIC_ROUGHNESS_TEXTURE", material.metallic_roughness_texture is not None and lit),
        ("ALPHA_MASK", material.alpha_mode == MASK), ("ALPHA_BLEND", material.alpha_mode == BLEND)) if wanted)


def _tangents(primitive: Primitive, material: Material) -> np.ndarray | None:
    """The geometry's tangents, or ones made from the normal map's UVs (None without UVs: no bending)."""
    geo = primitive.geometry
    if geo.tangents is not None:
        return geo.tangents
    uv = geo.texcoords1 if material.normal_texture.texcoord == 1 else geo.texcoords
    return None if uv is None else vertex_tangents(geo.positions, geo.normals, uv, primitive.indices)


def _after(first: Mapping[int, np.ndarray], then: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Joint moves `then` (say, a jaw opening at rest) followed by `first` (the head turning)."""
    identity = np.eye(4)
    return {k: first.get(k, identity) @ then.get(k, identity) for k in first.keys() | then.keys()}


def _set(program: moderngl.Program, values: Mapping[str, object]) -> None:
    """Set the uniforms a program variant reads (bytes are written as they are); it skips the others, as an
    unlit variant reads no light and no normal matrix."""
    for name, value in values.items():
        uniform = program.get(name, None)
        if uniform is None:
            continue
        if isinstance(value, bytes):
            uniform.write(value)
        else:
            uniform.value = value


def _floats(ctx: moderngl.Context, values: np.ndarray | None, shape: tuple[int, int], fill: float) -> moderngl.Buffer:
    """A float32 vertex buffer of `values`, or of `fill` where the geometry has none."""
    array = np.full(shape, fill, np.float32) if values is None else values
    return ctx.buffer(np.ascontiguousarray(array, np.float32).tobytes())


def check_size(width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE or width > MAX_SIDE or height > MAX_SIDE:
        raise UserError(f"image size {width}x{height} is out of range; use {MIN_SIDE} to {MAX_SIDE} pixels a side")


class Renderer:
    """Renders poses of one avatar at one size: `Renderer(avatar, 1280, 720).render({"jawOpen": 1})`.

    `background` is an sRGB colour (0..1 floats) or an (H, W, 3) uint8 sRGB image, which is scaled to
    cover the frame and cropped.
    """

    def __init__(self, avatar: Avatar, width: int, height: int, *, aa: float = 1.0,
                 camera: Camera | None = None,
                 background: tuple[float, float, float] | np.ndarray = DEFAULT_BACKGROUND):
        check_size(width, height)
        if not 1.0 <= aa <= MAX_AA:
            raise UserError(f"anti-aliasing factor {aa} is out of range; use 1 (off) to {MAX_AA:g}")
        self.avatar, self.width, self.height, self.aa = avatar, width, height, aa
        self.camera = camera or frame_face(avatar, width / height)
        self.head = head_frame(avatar)
        self._neck = turns_on_joints(avatar)  # the head turns on the neck, not the whole avatar
        self.ctx = create_context()
        self.background, self._backdrop = self._background(background)
        self._programs: dict[tuple[str, ...], moderngl.Program] = {}
        self._view3 = self.camera.view()[:3, :3]
        self._textures = {(id(t), srgb): self._texture(t, srgb) for m in avatar.materials
                          for _, t, srgb in _material_textures(m) if t is not None}
        self._meshes = [self._upload(mesh) for mesh in avatar.meshes]
        self._setup_targets()

    # -- setup --------------------------------------------------------------------------------

    def _program(self, defines: tuple[str, ...]) -> moderngl.Program:
        """The mesh program compiled for one material variant, with the camera and lights set."""
        if defines not in self._programs:
            program = self.ctx.program(vertex_shader=_shader("mesh.vert", defines, "shading.glsl"),
                                       fragment_shader=_shader("mesh.frag", defines, "shading.glsl"))
            directions = LIGHT_DIRECTIONS / np.linalg.norm(LIGHT_DIRECTIONS, axis=1, keepdims=True)
            projection = self.camera.projection(self.width / self.height)
            _set(program, {name: np.asarray(data, np.float32).tobytes() for name, data in (
                ("view", self.camera.view().T), ("projection", projection.T), ("light_dir", directions),
                ("light_color", LIGHT_COLOURS), ("sky_color", SKY), ("ground_color", GROUND))})
            self._programs[defines] = program
        return self._programs[defines]

    def _background(self, background) -> tuple[np.ndarray, moderngl.VertexArray | None]:
        """The clear colour, and for an image a full-screen draw of it at the scene's resolution."""
        if not isinstance(background, np.ndarray):
            return np.array(background, dtype=np.float32), None
        size = (round(self.width * self.aa), round(self.height * self.aa))
        image = ImageOps.fit(Image.fromarray(background).convert("RGBA"), size, Image.Resampling.LANCZOS)
        texture = self.ctx.texture(size, 4, image.tobytes())
        texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        program = self.ctx.program(vertex_shader=_shader("downsample.vert"),
                                   fragment_shader=_shader("background.frag"))
        program["image"].value = 1
        texture.use(1)
        self._background_texture = texture
        return np.zeros(3, np.float32), self.ctx.vertex_array(program, [])

    def _texture(self, source: Texture, srgb: bool) -> moderngl.Texture:
        """A texture on the GPU: colour decoded from sRGB as it is sampled, data (normals, occlusion) as it is."""
        image = source.pixels
        texture = self.ctx.texture((image.shape[1], image.shape[0]), 4, np.ascontiguousarray(image).tobytes(),
                                   **({"internal_format": SRGB8_ALPHA8} if srgb else {}))
        texture.build_mipmaps()
        texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        return texture

    def _upload(self, mesh: Mesh) -> tuple[Mesh, np.ndarray, list[_Buffers], list[_Draw]]:
        """Buffers per distinct geometry and a vertex array per primitive, bound to its material's program."""
        buffers: dict[int, _Buffers] = {}
        draws = []
        for primitive in mesh.primitives:
            geo = primitive.geometry
            if id(geo) not in buffers:
                buffers[id(geo)] = _Buffers(geo, self.ctx.buffer(geo.positions.tobytes(), dynamic=True),
                                            self.ctx.buffer(geo.normals.tobytes(), dynamic=True))
            gpu = buffers[id(geo)]
            n = len(geo.positions)
            material = DEFAULT_MATERIAL if primitive.material is None else self.avatar.materials[primitive.material]
            program = self._program(_variant(material))
            attributes = [(gpu.positions, "3f", "in_position")]
            if program.get("in_normal", None) is not None:  # an unlit variant reads none
                attributes.append((gpu.normals, "3f", "in_normal"))
            sources = {"in_color": (geo.colors, 4, 1.0), "in_texcoord": (geo.texcoords, 2, 0.0),
                       "in_texcoord1": (geo.texcoords1, 2, 0.0)}
            if program.get("in_tangent", None) is not None:  # normal-mapped variants
                sources["in_tangent"] = (_tangents(primitive, material), 4, 0.0)
            for name, (values, size, fill) in sources.items():
                if program.get(name, None) is not None:  # an attribute the variant reads
                    attributes.append((_floats(self.ctx, values, (n, size), fill), f"{size}f", name))
            vao = self.ctx.vertex_array(program, attributes, index_element_size=4,
                                        index_buffer=self.ctx.buffer(primitive.indices.astype(np.uint32).tobytes()))
            centre = geo.positions[np.unique(primitive.indices)].mean(axis=0) if primitive.indices.size else np.zeros(3)
            draws.append(_Draw(vao, program, material, primitive.indices.size, centre))
        normal_matrix = np.linalg.inv(self._view3 @ mesh.matrix[:3, :3]).T
        return mesh, normal_matrix, list(buffers.values()), draws

    def _setup_targets(self) -> None:
        if self.aa == 1:
            size = (self.width, self.height)
            self._scene = self._output = self.ctx.framebuffer([self.ctx.renderbuffer(size, 4)],
                                                              self.ctx.depth_renderbuffer(size))
            return
        size = (round(self.width * self.aa), round(self.height * self.aa))
        self._scene_colour = self.ctx.texture(size, 4)
        self._scene_colour.filter = (moderngl.NEAREST, moderngl.NEAREST)  # the resolve filters by hand
        self._scene = self.ctx.framebuffer([self._scene_colour], self.ctx.depth_renderbuffer(size))
        self._output = self.ctx.framebuffer([self.ctx.renderbuffer((self.width, self.height), 4)])
        self._resolve = self.ctx.program(vertex_shader=_shader("downsample.vert"),
                                         fragment_shader=_shader("downsample.frag"))
        # One bilinear tap spans 2x2 source texels: enough up to aa = 2, more taps beyond.
        self._resolve["out_size"].value = (self.width, self.height)
        self._resolve["taps"].value = int(np.ceil(self.aa / 2))
        self._resolve["source"].value = 0
        self._resolve_vao = self.ctx.vertex_array(self._resolve, [])

    # -- frames -------------------------------------------------------------------------------

    def render(self, pose: Mapping[str, float], head: tuple[float, float, float] | None = None) -> np.ndarray:
        """The avatar with morph weights `pose` (target name -> weight) and the head turned by `head` (yaw,
        pitch, roll in radians; see HeadFrame.rotation), as an (H, W, 3) uint8 sRGB image."""
        return self.render_rgba(pose, head)[:, :, :3]

    def render_rgba(self, pose: Mapping[str, float] | None, head: tuple[float, float, float] | None = None,
                    morphs: Mapping[int, np.ndarray] | None = None,
                    joints: Mapping[int, np.ndarray] | None = None) -> np.ndarray:
        """As `render`, but (H, W, 4) with an opaque alpha channel: the fast read-back, for video. `morphs`
        (glTF node index -> that mesh's morph weights) replaces `pose` when given; `joints` (index into
        avatar.joints -> 4x4 world-space move from its rest) bends skinned meshes, as a jaw bone does."""
        ctx = self.ctx
        self._scene.use()
        ctx.clear(*self.background, 1.0, depth=1.0)
        if self._backdrop is not None:
            ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
            self._background_texture.use(1)
            self._backdrop.render(moderngl.TRIANGLES, vertices=3)
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.front_face = "cw"  # the Y-flipped projection mirrors the winding
        turn = None
        if head is not None and any(head):
            if self._neck:
                joints = _after(self.head.joint_moves(self.avatar, *head), joints or {})
            else:
                turn = self.head.rotation(*head)
        blended = []
        view = self.camera.view()
        for mesh, normal_matrix, buffers, draws in self._meshes:
            if morphs is None:
                weights = mesh.weights(pose)
            else:
                weights = morphs.get(mesh.node_index, np.zeros(len(mesh.target_names), np.float32))
            self._update(buffers, weights, joints or {})
            matrix = mesh.matrix if turn is None else turn @ mesh.matrix
            if turn is not None:
                normal_matrix = np.linalg.inv(self._view3 @ matrix[:3, :3]).T
            placed = (matrix.T.astype(np.float32).tobytes(), normal_matrix.T.astype(np.float32).tobytes())
            for draw in draws:
                if draw.material.alpha_mode == BLEND:
                    depth = (view @ matrix @ np.append(draw.centre, 1.0))[2]
                    blended.append((depth, draw, placed))
                else:
                    self._draw(draw, *placed)
        if blended:  # after the opaque ones, farthest first, testing depth without writing it (glTF's advice)
            ctx.enable(moderngl.BLEND)
            ctx.blend_func = (moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA, moderngl.ONE,
                              moderngl.ONE_MINUS_SRC_ALPHA)
            self._scene.depth_mask = False
            for _, draw, placed in sorted(blended, key=lambda item: item[0]):
                self._draw(draw, *placed)
            self._scene.depth_mask = True
            ctx.disable(moderngl.BLEND)
        if self.aa > 1:
            ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
            self._output.use()
            self._scene_colour.use(0)
            self._resolve_vao.render(moderngl.TRIANGLES, vertices=3)
        rgba = np.frombuffer(self._output.read(components=4), dtype=np.uint8)
        return rgba.reshape(self.height, self.width, 4)

    def _update(self, buffers: list[_Buffers], weights: np.ndarray, joints: Mapping[int, np.ndarray]) -> None:
        for gpu in buffers:
            moves = joints if gpu.geometry.joints is not None else {}
            state = (weights.tobytes(), tuple((k, m.tobytes()) for k, m in sorted(moves.items())))
            if gpu.state == state:
                continue
            positions, normals = gpu.geometry.blend(weights)
            if moves:
                positions, normals = _skin_moves(gpu.geometry, positions, normals, moves)
            gpu.positions.write(np.ascontiguousarray(positions, np.float32))
            gpu.normals.write(np.ascontiguousarray(normals, np.float32))
            gpu.state = state

    def _draw(self, draw: _Draw, model: bytes, normals: bytes) -> None:
        _set(draw.program, {"model": model, "normal_matrix": normals})
        self._use_material(draw)
        draw.vao.render(moderngl.TRIANGLES, vertices=draw.count)

    def _use_material(self, draw: _Draw) -> None:
        program, material = draw.program, draw.material
        program["base_color"].value = tuple(material.base_color)
        r = min(max(material.roughness, 0.05), 1.0)
        values = {"shininess": min(max(2.0 / r**4 - 2.0, 1.0), 512.0),  # Blinn-Phong exponent
                  "emissive": tuple(material.emissive), "alpha_cutoff": material.alpha_cutoff,
                  "double_sided": material.double_sided, "metallic": material.metallic,
                  "roughness": material.roughness, "normal_scale": material.normal_scale,
                  "occlusion_strength": material.occlusion_strength}  # each set where the variant reads it
        if material.toon is not None:
            toon = material.toon
            values |= {"shade_color": toon.shade_color, "shading_shift": toon.shift, "shading_toony": toon.toony}
        for unit, (name, texture, srgb) in enumerate(_material_textures(material)):
            if texture is not None:
                self._textures[(id(texture), srgb)].use(unit)
                values |= {f"{name}_texture": unit, f"{name}_uv": tuple(texture.transform.T.ravel()),
                           f"{name}_set": texture.texcoord}
        _set(program, values)
        if material.double_sided:
            self.ctx.disable(moderngl.CULL_FACE)
        else:
            self.ctx.enable(moderngl.CULL_FACE)

    def release(self) -> None:
        self.ctx.release()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
