#version 330
// Albedo (factor x vertex colour x texture) times the light from the vertex shader, plus highlights;
// a gentle roll-off of the brightest values, then sRGB encoding. Compiled in variants: TEXTURE for
// textured materials, PIXEL_SPECULAR for glossy ones (a CPU rasteriser runs both sides of a branch),
// and neither: the vertex shader has done all the work.
#if !defined(TEXTURE) && !defined(PIXEL_SPECULAR)
#define PER_VERTEX
#endif
uniform vec4 base_color;        // linear RGBA
uniform sampler2D base_texture; // sRGB, decoded by the texture format
uniform bool double_sided;
uniform vec3 light_dir[3];
uniform vec3 light_color[3];
uniform float shininess;

in vec3 v_position;
in vec3 v_normal;
in vec2 v_texcoord;
in vec4 v_color;
in vec3 v_diffuse;
in vec3 v_specular;

out vec4 frag_color;

void main() {
#ifdef PER_VERTEX
    frag_color = v_color;
#else
    vec4 albedo = base_color * v_color;
#ifdef TEXTURE
    albedo *= texture(base_texture, v_texcoord);
#endif
    vec3 colour = albedo.rgb * v_diffuse + v_specular;
#ifdef PIXEL_SPECULAR
    vec3 n = normalize(v_normal);
    if (double_sided && !gl_FrontFacing) n = -n;
    vec3 h = normalize(light_dir[0] + normalize(-v_position));
    colour += light_color[0] * 0.04 * (shininess + 8.0) / 25.1327
              * pow(max(dot(n, h), 0.0), shininess) * max(dot(n, light_dir[0]), 0.0);
#endif
    colour = colour / (1.0 + 0.15 * colour);
    frag_color = vec4(pow(clamp(colour, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
#endif
}
