#version 330
// Morph targets are blended on the CPU (faster on llvmpipe). Lighting that varies slowly over the
// surface (wrapped diffuse from key, fill and rim lights, hemisphere ambient, and the key light's
// highlight on rough materials) is computed here per vertex: on a CPU rasteriser the per-pixel
// cost is what counts. Untextured rough materials get their final colour here (PER_VERTEX);
// glossy ones (PIXEL_SPECULAR) get their highlight per pixel instead.
#if !defined(TEXTURE) && !defined(PIXEL_SPECULAR)
#define PER_VERTEX
#endif
uniform mat4 model;
uniform mat3 normal_matrix;   // view * model, inverse-transposed
uniform mat4 view;
uniform mat4 projection;
uniform vec3 light_dir[3];    // view space, pointing towards the light
uniform vec3 light_color[3];
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform float shininess;
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

vec3 highlight(vec3 n, vec3 v, float s) {
    vec3 h = normalize(light_dir[0] + v);
    return light_color[0] * 0.04 * (s + 8.0) / 25.1327 * pow(max(dot(n, h), 0.0), s) * max(dot(n, light_dir[0]), 0.0);
}

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
    v_specular = highlight(n, normalize(-p.xyz), shininess);
#endif
#ifdef PER_VERTEX
    vec3 colour = (base_color * in_color).rgb * diffuse + v_specular;
    colour = colour / (1.0 + 0.15 * colour);
    v_color = vec4(pow(clamp(colour, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);  // final, sRGB-encoded
#endif
    gl_Position = projection * p;
}
