#version 330
// Morph targets are blended on the CPU (faster on llvmpipe). Lighting that varies slowly over the
// surface (wrapped diffuse from key, fill and rim lights, hemisphere ambient, and the key light's
// highlight on rough materials) is computed here per vertex: on a CPU rasteriser the per-pixel
// cost is what counts. highlight(), finish() and PER_VERTEX come from shading.glsl.
uniform mat4 model;
uniform mat3 normal_matrix;   // view * model, inverse-transposed
uniform mat4 view;
uniform mat4 projection;
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform vec4 base_color;      // linear RGBA
uniform mat3 base_uv;         // the base-colour texture's KHR_texture_transform on (u, v, 1) ...
uniform int base_set;         // ... of TEXCOORD_0 or _1
uniform mat3 emissive_uv;
uniform int emissive_set;

in vec3 in_position;
in vec3 in_normal;
in vec2 in_texcoord;
in vec2 in_texcoord1;
in vec4 in_color;

out vec3 v_position;   // view space
out vec3 v_normal;     // view space
out vec2 v_base_uv;
out vec2 v_emissive_uv;
out vec4 v_color;
out vec3 v_diffuse;    // incoming light, to multiply by the albedo
out vec3 v_specular;   // reflected light, added

const float WRAP = 0.25;

void main() {
    vec4 p = view * model * vec4(in_position, 1.0);
    vec3 n = normalize(normal_matrix * in_normal);
    vec3 diffuse = mix(ground_color, sky_color, 0.5 + 0.5 * n.y);
    for (int i = 0; i < 3; ++i)
        diffuse += light_color[i] * max((dot(n, light_dir[i]) + WRAP) / (1.0 + WRAP), 0.0);
    v_position = p.xyz;
    v_normal = n;
#ifdef TEXTURE
    v_base_uv = (base_uv * vec3(base_set == 1 ? in_texcoord1 : in_texcoord, 1.0)).xy;
#endif
#ifdef EMISSIVE_TEXTURE
    v_emissive_uv = (emissive_uv * vec3(emissive_set == 1 ? in_texcoord1 : in_texcoord, 1.0)).xy;
#endif
    v_color = in_color;
    v_diffuse = diffuse;
#ifdef PIXEL_SPECULAR
    v_specular = vec3(0.0);
#else
    v_specular = highlight(n, normalize(-p.xyz));
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
