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

in vec3 in_position;
in vec3 in_normal;
in vec2 in_texcoord;
in vec4 in_color;

out vec3 v_position;   // view space
out vec3 v_normal;     // view space
out vec2 v_texcoord;
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
    v_texcoord = in_texcoord;
    v_color = in_color;
    v_diffuse = diffuse;
#ifdef PIXEL_SPECULAR
    v_specular = vec3(0.0);
#else
    v_specular = highlight(n, normalize(-p.xyz));
#endif
#ifdef PER_VERTEX
    v_color = finish((base_color * in_color).rgb * diffuse + v_specular);  // final, sRGB-encoded
#endif
    gl_Position = projection * p;
}
