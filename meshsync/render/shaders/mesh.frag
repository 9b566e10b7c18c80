#version 330
// Albedo (factor x vertex colour x texture) times the light from the vertex shader, plus highlights,
// finished as sRGB. PER_VERTEX variants only pass on the colour the vertex shader finished.
uniform vec4 base_color;        // linear RGBA
uniform sampler2D base_texture; // sRGB, decoded by the texture format
uniform bool double_sided;

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
    colour += highlight(n, normalize(-v_position));
#endif
    frag_color = finish(colour);
#endif
}
