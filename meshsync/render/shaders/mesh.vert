#version 330
// Morph targets are blended on the CPU (faster on llvmpipe). Lighting that varies slowly over the
// surface (wrapped diffuse from key, fill and rim lights, hemisphere ambient, and the key light's
// highlight on rough materials) is computed here per vertex: on a CPU rasteriser the per-pixel
// cost is what counts. ambient(), direct(), highlight(), finish() and PER_VERTEX come from shading.glsl.
uniform mat4 model;
uniform mat3 normal_matrix;   // view * model, inverse-transposed
uniform mat4 view;
uniform mat4 projection;
uniform vec4 base_color;      // linear RGBA
uniform mat3 base_uv;         // the base-colour texture's KHR_texture_transform on (u, v, 1) ...
uniform int base_set;         // ... of TEXCOORD_0 or _1
uniform mat3 emissive_uv;
uniform int emissive_set;
uniform mat3 normal_uv;
uniform int normal_set;
uniform mat3 occlusion_uv;
uniform int occlusion_set;
uniform mat3 metallic_roughness_uv;
uniform int metallic_roughness_set;

in vec3 in_position;
in vec3 in_normal;
in vec2 in_texcoord;
in vec2 in_texcoord1;
in vec4 in_color;
in vec4 in_tangent;

out vec3 v_position;   // view space
out vec3 v_normal;     // view space
out vec2 v_base_uv;
out vec2 v_emissive_uv;
out vec2 v_normal_uv;
out vec2 v_occlusion_uv;
out vec2 v_metallic_roughness_uv;
out vec4 v_tangent;    // view space, w the bitangent's sign
out vec4 v_color;
out vec3 v_diffuse;    // incoming light, to multiply by the albedo
out vec3 v_specular;   // reflected light, added

void main() {
    vec4 p = view * model * vec4(in_position, 1.0);
    vec3 n = normalize(normal_matrix * in_normal);
    vec3 diffuse = ambient(n) + direct(n);
    v_position = p.xyz;
    v_normal = n;
#ifdef TEXTURE
    v_base_uv = (base_uv * vec3(base_set == 1 ? in_texcoord1 : in_texcoord, 1.0)).xy;
#endif
#ifdef EMISSIVE_TEXTURE
    v_emissive_uv = (emissive_uv * vec3(emissive_set == 1 ? in_texcoord1 : in_texcoord, 1.0)).xy;
#endif
#ifdef NORMAL_MAP
    v_normal_uv = (normal_uv * vec3(normal_set == 1 ? in_texcoord1 : in_texcoord, 1.0)).xy;
    v_tangent = vec4(normalize(normal_matrix * in_tangent.xyz), in_tangent.w);
#endif
#ifdef OCCLUSION_TEXTURE
    v_occlusion_uv = (occlusion_uv * vec3(occlusion_set == 1 ? in_texcoord1 : in_texcoord, 1.0)).xy;
#endif
#ifdef METALLIC_ROUGHNESS_TEXTURE
    v_metallic_roughness_uv = (metallic_roughness_uv * vec3(metallic_roughness_set == 1 ? in_texcoord1 : in_texcoord,
                                                            1.0)).xy;
#endif
    v_color = in_color;
    v_diffuse = diffuse;
#ifdef PIXEL_SPECULAR
    v_specular = vec3(0.0);
#else
    v_specular = highlight(n, normalize(-p.xyz), shininess);
#endif
#ifdef PER_VERTEX
    vec4 albedo = base_color * in_color;
#ifdef UNLIT
    v_color = finish(albedo.rgb, albedo.a);  // final, sRGB-encoded
#else
    v_color = finish(albedo.rgb * diffuse + v_specular + emissive, albedo.a);
#endif
#endif
    gl_Position = projection * p;
}
